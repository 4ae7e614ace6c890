"""The chart's NetworkPolicies: no ci/ render opens a rule to everything or selects pods that are not there,
each check catches a broken copy, and each fail-closed rule refuses its input with what to set (and renders
once that is set, so the refusal is the rule's and nothing else's)."""

from __future__ import annotations

import copy

import pytest

from tests.deploy import network_policies as np
from tests.deploy.tools import CI_VALUES, helm_template, merged_values

DEFAULT = next(path for path in CI_VALUES if path.name == "default-values.yaml")
# The ports the Flink Kubernetes Operator adds to the JobManager's container (its REST API).
FLINK_OPERATOR_PORTS = {8081}
S3 = (
    "--set",
    "statefun.storage.type=s3",
    "--set",
    "statefun.storage.s3.bucket=b",
    "--set",
    "statefun.storage.s3.credentialsSecret.name=s",
)


def nobody(key: str) -> tuple[str, ...]:
    """Clear both selectors of a {namespaceSelector, podSelector} value (null: helm merges maps). --set-json,
    as the fixes are, since helm applies every --set-json before any --set."""
    return ("--set-json", f"{key}.namespaceSelector=null", "--set-json", f"{key}.podSelector=null")


# (input that would open or break the cluster, what the message tells to set, the setting that fixes it)
FAIL_CLOSED = {
    "external Kafka without addresses": (
        ("--set", "kafka.external.bootstrapServers=kafka:9092"),
        "set kafka.external.cidrs",
        ("--set-json", 'kafka.external.cidrs=["10.20.0.0/16"]'),
    ),
    "DNS selecting nothing": (
        nobody("networkPolicy.dns"),
        "networkPolicy.dns.cidrs",
        ("--set-json", 'networkPolicy.dns.cidrs=["169.254.20.10/32"]'),
    ),
    "API server by CIDR without CIDRs": (
        ("--set", "networkPolicy.kubeApiServer.mode=cidrs"),
        "networkPolicy.kubeApiServer.cidrs is empty",
        ("--set-json", 'networkPolicy.kubeApiServer.cidrs=["172.18.0.2/32"]'),
    ),
    "S3 checkpoints without object storage addresses": (
        (*S3, "--set-json", "networkPolicy.objectStorage.cidrs=[]"),
        "networkPolicy.objectStorage.cidrs is empty",
        ("--set-json", 'networkPolicy.objectStorage.cidrs=["10.0.0.0/8"]'),
    ),
    "no operator may reach the JobManager": (
        nobody("networkPolicy.flinkOperator"),
        "set its namespaceSelector/podSelector to the operator's pods",
        ("--set-json", 'networkPolicy.flinkOperator.namespaceSelector={"team": "streaming"}'),
    ),
    "monitoring without a Prometheus to admit": (
        ("--set", "monitoring.enabled=true", *nobody("networkPolicy.prometheus")),
        "set networkPolicy.prometheus",
        ("--set-json", 'networkPolicy.prometheus.podSelector={"app": "prometheus"}'),
    ),
    "a Jaeger datasource without a Grafana to admit": (
        ("--set", "monitoring.enabled=true", "--set", "tracing.enabled=true", *nobody("networkPolicy.grafana")),
        "set networkPolicy.grafana",
        ("--set-json", 'networkPolicy.grafana.podSelector={"app": "grafana"}'),
    ),
    "KEDA on consumer lag without KEDA to admit": (
        ("--set", "statefun.autoscaling.keda.enabled=true", *nobody("networkPolicy.keda")),
        "set networkPolicy.keda",
        ("--set-json", 'networkPolicy.keda.namespaceSelector={"name": "keda"}'),
    ),
    "an extra runtime peer of every namespace": (
        ("--set-json", 'networkPolicy.extraRuntimePeers=[{"namespaceSelector": {}}]'),
        "name the runtime's pods or addresses",
        ("--set-json", 'networkPolicy.extraRuntimePeers=[{"namespaceSelector": {"matchLabels": {"team": "flink"}}}]'),
    ),
    "an extra runtime peer of every address": (
        ("--set-json", 'networkPolicy.extraRuntimePeers=[{"ipBlock": {"cidr": "0.0.0.0/0"}}]'),
        "name the runtime's pods or addresses",
        ("--set-json", 'networkPolicy.extraRuntimePeers=[{"ipBlock": {"cidr": "10.30.0.0/16"}}]'),
    ),
    "an extra runtime peer of every pod in the namespace": (
        ("--set-json", 'networkPolicy.extraRuntimePeers=[{"podSelector": {}}]'),
        "name the runtime's pods or addresses",
        ("--set-json", 'networkPolicy.extraRuntimePeers=[{"podSelector": {"matchLabels": {"app": "flink"}}}]'),
    ),
}


@pytest.mark.parametrize("case", FAIL_CLOSED, ids=list(FAIL_CLOSED))
def test_a_policy_that_would_open_or_break_the_cluster_fails_the_render(case):
    bad, message, fix = FAIL_CLOSED[case]
    refused = helm_template(*bad)
    assert refused.returncode != 0 and message in refused.output, refused.output
    fixed = helm_template(*bad, *fix)
    assert fixed.returncode == 0, fixed.output


def api_server_ports(values: dict) -> set[int]:
    api = values["networkPolicy"]["kubeApiServer"]
    return set(api["ports"]) if api["mode"] == "ports" else set()


def test_no_ci_render_opens_a_rule_or_selects_pods_that_are_not_there(renders, ci_values):
    docs = renders(ci_values)
    assert np.check_no_open_rules(docs, api_server_ports(merged_values(ci_values))) == []
    assert np.check_selectors_reach_pods(docs) == []
    assert np.check_ingress_ports_are_served(docs, FLINK_OPERATOR_PORTS) == []


@pytest.fixture
def docs(renders):
    """A private copy of the default render, to break."""
    return copy.deepcopy(renders(DEFAULT))


def policy(docs, name):
    return next(d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == name)


def test_a_rule_without_peers_or_with_an_everything_peer_is_caught(docs):
    del policy(docs, "fraud-kafka-clients")["spec"]["egress"][0]["to"]
    policy(docs, "fraud-functions")["spec"]["ingress"][0]["from"].append({"namespaceSelector": {}})
    problems = np.check_no_open_rules(docs, {443, 6443})
    assert any(p.startswith("NetworkPolicy fraud-kafka-clients: an egress rule without peers") for p in problems)
    assert any(p.startswith("NetworkPolicy fraud-functions: ingress peer") for p in problems)
    # The API server's ports-only rule passes only on the API server's ports.
    assert not any("fraud-statefun-runtime" in p for p in problems)
    assert any("fraud-statefun-runtime" in p for p in np.check_no_open_rules(docs, {443}))


def test_labels_that_drifted_from_the_pods_are_caught(docs):
    functions = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "fraud-functions")
    functions["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] = "function-server"
    problems = np.check_selectors_reach_pods(docs)
    assert "NetworkPolicy fraud-functions selects no rendered pod" in problems
    assert any(p.startswith("NetworkPolicy fraud-statefun-runtime: egress peer") for p in problems)
    assert any(p.startswith("NetworkPolicy fraud-merchant-service: ingress peer") for p in problems)


def test_a_strimzi_peer_naming_another_cluster_is_caught(docs):
    peer = policy(docs, "fraud-kafka-clients")["spec"]["egress"][0]["to"][0]
    peer["podSelector"]["matchLabels"][np.STRIMZI_CLUSTER] = "other-kafka"
    assert np.check_selectors_reach_pods(docs) == [
        "NetworkPolicy fraud-kafka-clients: egress to Strimzi cluster other-kafka, not rendered"
    ]


def test_an_ingress_port_no_pod_serves_is_caught(docs):
    policy(docs, "fraud-merchant-service")["spec"]["ingress"][0]["ports"][0]["port"] = 8091
    assert np.check_ingress_ports_are_served(docs, FLINK_OPERATOR_PORTS) == [
        "NetworkPolicy fraud-merchant-service: ingress port 8091 that no selected pod declares"
    ]
    assert any("port 8081" in p for p in np.check_ingress_ports_are_served(docs, set()))


@pytest.mark.parametrize(
    "selector, labels, expected",
    [
        ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "3"]}]}, {"a": "3"}, True),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {"a": "1"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {}, False),
        ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {}, True),
        ({}, {"a": "1"}, True),
    ],
)
def test_label_selectors_match_as_kubernetes_matches_them(selector, labels, expected):
    assert np.matches(selector, labels) is expected
