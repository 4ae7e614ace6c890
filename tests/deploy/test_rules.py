"""Fail-closed rendering: every combination of values that would render valid objects which then hang or break
on a cluster fails `helm template` with a message that says what to set (templates/_validate.tpl, docs/adr/0011);
the same values with that setting render. Also the minimum versions: Kubernetes by the chart's kubeVersion, the
operators' APIs when helm knows what the cluster serves (`--api-versions` stands in for a cluster here)."""

from __future__ import annotations

import json

import pytest

from fraud_functions.settings import FunctionSettings
from tests.deploy.tools import helm_template

REQUIRED_ANTI_AFFINITY = {
    "podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "x"}}}
        ]
    }
}
REQUIRED_AFFINITY = {
    "podAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "topology.kubernetes.io/zone", "labelSelector": {"matchLabels": {"app": "x"}}}
        ]
    }
}
S3 = {"type": "s3", "s3": {"bucket": "b", "credentialsSecret": {"name": "creds"}}}
REQUIRED_NODE_AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "pool", "operator": "Exists"}]}]
        }
    }
}

# (what, values that fail, words of the message, values that fix it)
RULES = [
    (
        "ReadWriteOncePod",
        {"statefun.storage.pvc.accessModes": ["ReadWriteOncePod"]},
        "ReadWriteOncePod lets one pod use the claim",
        {"statefun.storage.pvc.accessModes": ["ReadWriteOnce"]},
    ),
    (
        "ReadWriteMany from the default class",
        {"statefun.storage.pvc.accessModes": ["ReadWriteMany"]},
        "set statefun.storage.pvc.storageClassName to a ReadWriteMany class",
        {"statefun.storage.pvc.accessModes": ["ReadWriteMany"], "statefun.storage.pvc.storageClassName": "nfs"},
    ),
    (
        "required anti-affinity on ReadWriteOnce",
        {"statefun.affinity": REQUIRED_ANTI_AFFINITY},
        "could keep Flink pods on different nodes",
        {"statefun.affinity": REQUIRED_ANTI_AFFINITY, "statefun.storage": S3},
    ),
    (
        "required pod affinity beside the chart's",
        {"statefun.affinity": REQUIRED_AFFINITY},
        "would leave them Pending",
        {"statefun.affinity": REQUIRED_AFFINITY, "statefun.storage": S3},
    ),
    (
        "one-at-a-time Flink PDB on ReadWriteOnce",
        {"statefun.jobManagerPdb.maxUnavailable": 1},
        "statefun.jobManagerPdb.maxUnavailable=1 with the ReadWriteOnce checkpoint claim would block a node drain",
        {"statefun.jobManagerPdb.maxUnavailable": 1, "statefun.storage": S3},
    ),
    (
        "monitoring without the brokers' exporter",
        {"monitoring.enabled": True, "kafka.metrics.enabled": False},
        "leaves the Kafka dashboard empty: set kafka.metrics.enabled=true",
        {"monitoring.enabled": True, "kafka.metrics.enabled": True},
    ),
    (
        "kafka nodeSelector beside a required node affinity",
        {"kafka.nodeSelector": {"pool": "kafka"}, "kafka.affinity": REQUIRED_NODE_AFFINITY},
        "Strimzi has no nodeSelector",
        {"kafka.affinity": REQUIRED_NODE_AFFINITY},
    ),
    (
        "an env name set twice",
        {"functions.extraEnv": [{"name": "FUNCTIONS_PORT", "value": "9000"}]},
        "functions: the environment variable FUNCTIONS_PORT is set twice",
        {"functions.extraEnv": [{"name": "FUNCTIONS_EXTRA", "value": "9000"}]},
    ),
    (
        "an alert threshold beside the model file's",
        {"functions.env": {"ALERT_THRESHOLD": "0.8"}},
        "ALERT_THRESHOLD is the chart's (functions.model",
        {"functions.model.thresholdOverride": 0.8},
    ),
    (
        "a model path beside the chart's model files",
        {"functions.extraEnv": [{"name": "MODEL_PATH", "value": "/m.json"}]},
        "MODEL_PATH is the chart's (functions.model",
        {"functions.model.champion": "{}"},
    ),
    (
        "a name prefix past Kubernetes' limits",
        {"fullnameOverride": "f" * 41},
        "set fullnameOverride (or a shorter release name) of at most 40",
        {"fullnameOverride": "f" * 40, "kafka.clusterName": "kafka"},
    ),
    (
        "a call timeout within the merchant lookup's default worst case",
        {"statefun.moduleSpec.STATEFUN_CALL_TIMEOUT": "3s"},
        "does not exceed the merchant lookup's worst case of 3.3s",
        {"statefun.moduleSpec.STATEFUN_CALL_TIMEOUT": "4s"},
    ),
    (
        "merchant retries that outlast the call timeout",  # 10 x 6 s + 0.1 + 0.2 + 0.4 + 0.8 + 5 x 1 s
        {"functions.env.MERCHANT_MAX_ATTEMPTS": "10", "functions.env.MERCHANT_TIMEOUT_SECONDS": "6"},
        "set statefun.moduleSpec.STATEFUN_CALL_TIMEOUT above 66.5s",
        {
            "functions.env.MERCHANT_MAX_ATTEMPTS": "10",
            "functions.env.MERCHANT_TIMEOUT_SECONDS": "6",
            "statefun.moduleSpec.STATEFUN_CALL_TIMEOUT": "2min",
        },
    ),
    (
        "a call timeout that is not a duration",
        {"statefun.moduleSpec.STATEFUN_CALL_TIMEOUT": "1 fortnight"},
        "is not a duration the runtime reads",
        {"statefun.moduleSpec.STATEFUN_CALL_TIMEOUT": "1 min"},
    ),
    (
        "a broker hostname past 63 characters",
        {"kafka.clusterName": "k" * 30, "kafka.nodePoolName": "p" * 31},
        "set a shorter kafka.clusterName or kafka.nodePoolName",
        {"kafka.clusterName": "k" * 30, "kafka.nodePoolName": "p" * 30},
    ),
]


def render(values: dict, *extra: str):
    args = [arg for key, value in values.items() for arg in ("--set-json", f"{key}={json.dumps(value)}")]
    return helm_template(*args, *extra)


@pytest.mark.parametrize("what, failing, message, fixed", RULES, ids=[rule[0] for rule in RULES])
def test_a_combination_that_would_hang_fails_with_what_to_set(what, failing, message, fixed):
    refused = render(failing)
    assert refused.returncode != 0 and message in refused.output, refused.output
    accepted = render(fixed)
    assert accepted.returncode == 0, accepted.output


@pytest.mark.parametrize(
    "env",
    [
        {"MERCHANT_MAX_ATTEMPTS": "4", "MERCHANT_TIMEOUT_SECONDS": "0.5", "MERCHANT_BACKOFF_SECONDS": "0.25"},
        {"MERCHANT_MAX_ATTEMPTS": "6", "MERCHANT_BACKOFF_SECONDS": "0.5", "MERCHANT_BACKOFF_MAX_SECONDS": "2"},
        {"MERCHANT_MAX_ATTEMPTS": "1", "MERCHANT_TIMEOUT_SECONDS": "2.5"},
    ],
    ids=["backoffs under the cap", "backoffs reaching the cap", "one attempt"],
)
def test_the_call_timeout_rule_is_the_functions_own_worst_case_to_the_millisecond(env):
    """The chart's sum and the functions' (FunctionSettings.merchant_worst_case_seconds) agree: a call timeout of
    exactly the worst case is refused, one millisecond more renders. The settings reach the chart both ways."""
    worst_ms = round(FunctionSettings.from_env(env).merchant_worst_case_seconds() * 1000)
    as_env = {f"functions.env.{name}": value for name, value in env.items()}
    as_extra_env = {"functions.extraEnv": [{"name": name, "value": value} for name, value in env.items()]}
    for values in (as_env, as_extra_env):
        refused = render({**values, "statefun.moduleSpec.STATEFUN_CALL_TIMEOUT": f"{worst_ms}ms"})
        assert refused.returncode != 0 and "does not exceed the merchant lookup's worst case" in refused.output
        accepted = render({**values, "statefun.moduleSpec.STATEFUN_CALL_TIMEOUT": f"{worst_ms + 1}ms"})
        assert accepted.returncode == 0, accepted.output


def test_a_kubernetes_older_than_the_chart_supports_is_refused():
    old = helm_template("--kube-version", "1.28.0")
    assert old.returncode != 0 and "chart requires kubeVersion: >=1.29.0-0" in old.output


OPERATORS = [
    "v1/ConfigMap",
    "flink.apache.org/v1beta1/FlinkDeployment",
    "kafka.strimzi.io/v1/Kafka",
    "kafka.strimzi.io/v1/KafkaNodePool",
    "kafka.strimzi.io/v1/KafkaTopic",
]


def served(*api_versions: str) -> list[str]:
    return [arg for api in api_versions for arg in ("--api-versions", api)]


@pytest.mark.parametrize(
    "missing, values, message",
    [
        ("flink.apache.org/v1beta1/FlinkDeployment", {}, "install the Flink Kubernetes Operator's CRDs"),
        ("kafka.strimzi.io/v1/Kafka", {}, "install Strimzi 1.x, which serves kafka.strimzi.io/v1"),
        ("monitoring.coreos.com/v1/PodMonitor", {"monitoring.enabled": True}, "install the prometheus-operator CRDs"),
        ("keda.sh/v1alpha1/ScaledObject", {"functions.keda.enabled": True}, "install KEDA 2.x"),
    ],
    ids=["flink-operator", "strimzi-v1", "prometheus-operator", "keda"],
)
def test_a_cluster_without_an_api_the_release_needs_is_refused_by_name(missing, values, message):
    everything = [
        *OPERATORS,
        "monitoring.coreos.com/v1/PodMonitor",
        "monitoring.coreos.com/v1/PrometheusRule",
        "keda.sh/v1alpha1/ScaledObject",
    ]
    refused = render(values, *served(*[api for api in everything if api != missing]))
    assert refused.returncode != 0, refused.output
    assert f"this cluster does not serve {missing}: {message}" in refused.output
    assert render(values, *served(*everything)).returncode == 0


def test_strimzi_0_4x_serving_only_v1beta2_is_refused():
    old = [api.replace("kafka.strimzi.io/v1/", "kafka.strimzi.io/v1beta2/") for api in OPERATORS]
    refused = helm_template(*served(*old))
    assert refused.returncode != 0 and "does not serve kafka.strimzi.io/v1/Kafka" in refused.output
