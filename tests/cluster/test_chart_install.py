"""`helm install` of the chart with every values file of charts/fraud-platform/ci, each into a namespace of
its own that enforces Pod Security `restricted`, all at once; then what the real API server, controllers,
scheduler and kwok made of each release.

Proved here: every object is accepted (CRD schemas, admission, RBAC objects, validation) without a
warning, and stored as the chart set it; Deployments reach their replicas on kwok nodes with the right
images and their Services find them; the HPAs reach their targets' scale subresource; the pods the Flink
operator would create pass Pod Security; the `helm test` pod is admitted and scheduled.
Not proved here: that any container works (none runs: kwok reports pods Running), or what the operators
would do with the FlinkDeployment and the Strimzi resources (none runs: they are only stored).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from subprocess import CompletedProcess

import pytest
import yaml

from tests.cluster.chart import (
    Release,
    crd_schema,
    create_restricted_namespace,
    custom_resource_problems,
    delete_namespaces,
    deployment_problems,
    drift,
    expected_replicas,
    flink_pod_problems,
    is_custom,
    key,
    prerequisite_secrets,
    service_problems,
    wait_for,
)
from tests.deploy.tools import CI_VALUES, merged_values

CI = {path.name.removesuffix("-values.yaml"): path for path in CI_VALUES}
VALUES = {name: merged_values(path) for name, path in CI.items()}
WITH_APP = [name for name, values in VALUES.items() if values["app"]["enabled"]]
WITH_HPA = [
    name
    for name, values in VALUES.items()
    if values["app"]["enabled"]
    and (
        (values["functions"]["autoscaling"]["enabled"] and not values["functions"]["keda"]["enabled"])
        or (
            values["statefun"]["autoscaling"]["hpa"]["enabled"]
            and not values["statefun"]["autoscaling"]["keda"]["enabled"]
        )
    )
]
# Why an HPA cannot act beyond its minimum here: no metrics-server (FailedGetResourceMetric), and the
# FlinkDeployment's scale subresource takes its selector from status.taskManager.labelSelector, which only
# the operator writes (InvalidSelector).
HPA_INACTIVE_HERE = {"FailedGetResourceMetric", "InvalidSelector"}
HELM_TEST_TIMEOUT = "5s"


@dataclass(frozen=True)
class Installed:
    release: Release
    install: CompletedProcess


@pytest.fixture(scope="module")
def installed(cluster) -> Iterator[dict[str, Installed]]:
    releases = {name: Release(f"ci-{name}", cluster.helm, cluster.kubectl) for name in CI}
    for name, release in releases.items():
        create_restricted_namespace(cluster.kubectl, release.namespace)
        secrets = prerequisite_secrets(VALUES[name], release.namespace)
        if secrets:
            cluster.kubectl.run("apply", "-f", "-", input=yaml.safe_dump_all(secrets))
    with ThreadPoolExecutor(len(releases)) as pool:
        results = dict(
            zip(releases, pool.map(lambda name: releases[name].install("-f", str(CI[name])), releases), strict=True)
        )
    yield {name: Installed(releases[name], results[name]) for name in releases}
    with ThreadPoolExecutor(len(releases)) as pool:
        list(pool.map(lambda r: r.helm.run("uninstall", r.name, "-n", r.namespace, check=False), releases.values()))
    delete_namespaces(cluster.kubectl, *(r.namespace for r in releases.values()))


@pytest.fixture(scope="module")
def crds(cluster) -> list[dict]:
    return cluster.kubectl.json("get", "customresourcedefinitions")["items"]


@pytest.fixture(scope="module")
def helm_tests(installed) -> dict[str, CompletedProcess]:
    """`helm test` of every release with the app, at once; on kwok the test pod runs forever, so each times out."""

    def run(name: str) -> CompletedProcess:
        release = installed[name].release
        return release.helm.run(
            "test", release.name, "-n", release.namespace, f"--timeout={HELM_TEST_TIMEOUT}", check=False, timeout=60
        )

    with ThreadPoolExecutor(len(WITH_APP)) as pool:
        return dict(zip(WITH_APP, pool.map(run, WITH_APP), strict=True))


@pytest.mark.parametrize("name", CI)
def test_every_object_is_accepted_without_warnings_and_stored_as_set(installed, name):
    release, result = installed[name].release, installed[name].install
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr  # Pod Security, unknown (dropped) fields, deprecated APIs
    assert "STATUS: deployed" in result.stdout
    manifest = release.manifest()
    assert manifest
    stored = release.stored(manifest)
    for doc in manifest:
        assert key(doc) in stored, f"{key(doc)} was not stored"
        assert drift(doc, stored[key(doc)]) == [], key(doc)


@pytest.mark.parametrize("name", CI)
def test_deployments_reach_their_replicas_on_kwok_nodes_and_services_find_them(installed, name):
    release = installed[name].release
    expected = expected_replicas(release.manifest())
    assert wait_for(lambda: deployment_problems(release, expected), timeout=90) == []
    assert wait_for(lambda: service_problems(release), timeout=30) == []


@pytest.mark.parametrize("name", CI)
def test_custom_resources_are_stored_with_every_field_the_chart_set(installed, crds, name):
    """The operators' CRDs default nothing the chart leaves out and prune nothing it sets (the comparison
    allows what a CRD declares as a default)."""
    release = installed[name].release
    custom = [doc for doc in release.manifest() if is_custom(doc)]
    assert custom, "every ci values file renders FlinkDeployment and/or Strimzi resources"
    stored = release.stored(custom)
    for doc in custom:
        assert custom_resource_problems(doc, stored[key(doc)], crd_schema(crds, doc)) == [], key(doc)


@pytest.mark.parametrize("name", WITH_APP)
def test_the_pods_the_flink_operator_would_create_pass_pod_security(installed, name):
    release = installed[name].release
    manifest = release.manifest()
    assert [d["kind"] for d in manifest].count("FlinkDeployment") == 1
    assert flink_pod_problems(release, manifest) == []


@pytest.mark.parametrize("name", WITH_HPA)
def test_every_hpa_reaches_its_targets_scale_subresource(installed, name):
    """The HPA controller read the scale of each target, the FlinkDeployment's /scale included; it cannot
    act further here, and the reason must be one of those this plane explains."""
    release = installed[name].release

    def problems() -> list[str]:
        found = []
        hpas = release.items("horizontalpodautoscalers")
        if not hpas:
            return ["no HorizontalPodAutoscaler"]
        for hpa in hpas:
            conditions = {c["type"]: c for c in hpa.get("status", {}).get("conditions", [])}
            able, active = conditions.get("AbleToScale"), conditions.get("ScalingActive")
            if not able or able["status"] != "True" or not active:
                found.append(f"{hpa['metadata']['name']}: {list(conditions.values())}")
            elif active["status"] == "False" and active["reason"] not in HPA_INACTIVE_HERE:
                found.append(f"{hpa['metadata']['name']}: {active['reason']}: {active['message']}")
        return found

    assert wait_for(problems, timeout=60) == []


@pytest.mark.parametrize("name", WITH_APP)
def test_the_helm_test_pod_is_admitted_and_scheduled(installed, helm_tests, name):
    """What `helm test` can prove here: the test pod passes admission in a restricted namespace, is bound to
    a node and reported Running with the chart's image and Kafka address. It never completes (no container
    runs), so `helm test` ends by its timeout; that the smoke test passes is proved only on a real cluster."""
    release = installed[name].release
    result = helm_tests[name]
    assert result.returncode != 0 and "timed out waiting for the condition" in result.stderr, result.stderr
    (rendered,) = [hook for hook in release.hooks() if hook["kind"] == "Pod"]
    pod = release.stored([rendered])[key(rendered)]
    assert drift(rendered, pod) == []  # image, Kafka address, security context: as the chart set them
    assert pod["status"]["phase"] == "Running"
    assert pod["spec"]["nodeName"].startswith("kwok-node-")
    scheduled = [c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled"]
    assert scheduled and scheduled[0]["status"] == "True"
