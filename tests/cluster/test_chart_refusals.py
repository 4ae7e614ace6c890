"""Inputs that `helm template` and the values schema let through, and that the real server refuses or the
checks of test_chart_install.py catch: the suite can fail. The inputs are in tests/cluster/inputs (never
in the chart's ci/, which must install)."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from tests.cluster.chart import (
    PSA_REFUSAL,
    Release,
    crd_schema,
    create_restricted_namespace,
    custom_resource_problems,
    delete_namespaces,
    deployment_problems,
    expected_replicas,
    key,
    service_problems,
    wait_for,
)
from tests.deploy.tools import documents, helm_template

INPUTS = Path(__file__).parent / "inputs"


@pytest.fixture
def release(cluster):
    """A release in a restricted namespace of the test's own, uninstalled and deleted afterwards."""
    release = Release(f"refused-{uuid.uuid4().hex[:8]}", cluster.helm, cluster.kubectl)
    create_restricted_namespace(cluster.kubectl, release.namespace)
    yield release
    cluster.helm.run("uninstall", release.name, "-n", release.namespace, check=False)
    delete_namespaces(cluster.kubectl, release.namespace)


def renders(*args: str) -> bool:
    """`helm template` with the values schema accepts it (so `make verify-deploy` alone would not refuse it)."""
    return helm_template(*args).returncode == 0


def test_pods_that_break_pod_security_restricted_are_refused(release):
    values_file = INPUTS / "pod-security-values.yaml"
    assert renders("-f", str(values_file))
    install = release.install("-f", str(values_file))
    assert install.returncode == 0, install.stderr  # Deployments are accepted (with a warning) ...
    assert "would violate PodSecurity" in install.stderr and "Unconfined" in install.stderr
    expected = expected_replicas(release.manifest())

    def refused() -> list[str]:
        problems = deployment_problems(release, expected)
        return [] if sum(PSA_REFUSAL in p for p in problems) == len(expected) else problems

    assert wait_for(refused, timeout=60) == []  # ... their pods are not: no Deployment gets a replica
    services_without_pods = sorted(problem.split()[1] for problem in service_problems(release))
    assert services_without_pods == [f"{release.name}-functions", f"{release.name}-merchant-service"]
    helm_test = release.helm.run("test", release.name, "-n", release.namespace, "--timeout=5s", check=False)
    assert helm_test.returncode != 0 and PSA_REFUSAL in helm_test.stderr  # the test pod itself is refused


def test_a_selector_with_an_invalid_label_value_is_refused(release):
    values_file = INPUTS / "selector-values.yaml"
    assert renders("-f", str(values_file))
    install = release.install("-f", str(values_file))
    assert install.returncode != 0
    assert 'NetworkPolicy.networking.k8s.io "fraud-allow-dns" is invalid' in install.stderr
    assert 'podSelector.matchLabels: Invalid value: "kube dns"' in install.stderr


def test_a_wrong_type_in_the_flinkdeployment_is_refused_by_its_crd(release):
    """Set after rendering by a post-renderer, where no values schema reaches: no values file can do this,
    since the schema types every number of the FlinkDeployment and the chart quotes its free-form strings."""
    post_render = [
        "--post-renderer",
        sys.executable,
        "--post-renderer-args",
        str(INPUTS / "post_render.py"),
        "--post-renderer-args",
        str(INPUTS / "flink-wrong-type-patch.yaml"),
    ]
    install = release.install(*post_render)
    assert install.returncode != 0
    assert 'FlinkDeployment.flink.apache.org "fraud-statefun" is invalid' in install.stderr
    assert "spec.taskManager.replicas in body must be of type integer" in install.stderr


def test_a_pruned_field_is_reported(cluster, release):
    """The comparison behind "stored as the chart set it": a field the CRD does not know, sent without
    strict field validation, is dropped by the server, and the check names it."""
    (flink,) = [
        d for d in documents(helm_template(namespace=release.namespace).stdout) if d["kind"] == "FlinkDeployment"
    ]
    flink["spec"]["taskManager"]["resource"]["gpu"] = 1
    cluster.kubectl.run("apply", "--validate=false", "-n", release.namespace, "-f", "-", input=yaml.safe_dump(flink))
    stored = release.stored([flink])[key(flink)]
    crds = cluster.kubectl.json("get", "customresourcedefinitions")["items"]
    cluster.kubectl.run("delete", "-n", release.namespace, "-f", "-", input=yaml.safe_dump(flink))
    assert custom_resource_problems(flink, stored, crd_schema(crds, flink)) == [
        "spec.taskManager.resource.gpu: pruned (set to 1)"
    ]


def test_a_numeric_looking_service_account_name_stays_a_string(cluster, release):
    """A valid name YAML reads as a number: the server refused the FlinkDeployment (`spec.serviceAccount ...
    must be of type string`) until the chart quoted it; now the ServiceAccount, RoleBinding and
    FlinkDeployment all name "1001"."""
    rendered = helm_template("-f", str(INPUTS / "numeric-service-account-values.yaml"), namespace=release.namespace)
    assert rendered.returncode == 0, rendered.output
    applied = cluster.kubectl.run(
        "apply",
        "--dry-run=server",
        "-n",
        release.namespace,
        "-o",
        "json",
        "-f",
        "-",
        input=rendered.stdout,
        check=False,
    )
    assert applied.returncode == 0, applied.stderr
    docs = {d["kind"]: d for d in documents(rendered.stdout)}
    assert docs["ServiceAccount"]["metadata"]["name"] == "1001"
    assert docs["RoleBinding"]["subjects"][0]["name"] == "1001"
    assert docs["FlinkDeployment"]["spec"]["serviceAccount"] == "1001"


def served_kinds(kubectl, api_version: str) -> set[str]:
    """The kinds the server's discovery lists for `api_version` (what helm's capabilities are made from)."""
    listed = kubectl.run("get", "--raw", f"/apis/{api_version}", check=False)
    return {r["kind"] for r in json.loads(listed.stdout)["resources"]} if listed.returncode == 0 else set()


def test_a_cluster_that_does_not_serve_strimzi_v1_is_refused_by_name_at_install(cluster, release):
    """Strimzi 0.4x serves only kafka.strimzi.io/v1beta2: the Kafka CRD's v1 unserved for the length of this test
    stands in for it. `helm install` then fails naming what to install, before anything is created (not with
    "no matches for kind" halfway through); served again, the same install passes (a server-side dry run)."""
    crd = "kafkas.kafka.strimzi.io"
    assert [v["name"] for v in cluster.kubectl.json("get", "crd", crd)["spec"]["versions"]] == ["v1"]

    def serve(served: bool) -> None:
        patch = json.dumps([{"op": "replace", "path": "/spec/versions/0/served", "value": served}])
        cluster.kubectl.run("patch", "crd", crd, "--type=json", "-p", patch)

        def discovery() -> list[str]:
            listed = "Kafka" in served_kinds(cluster.kubectl, "kafka.strimzi.io/v1")
            return [] if listed == served else [f"discovery does not yet say served={served}"]

        assert wait_for(discovery, timeout=30) == []

    serve(False)
    try:
        refused = release.install()
        assert refused.returncode != 0
        assert (
            "this cluster does not serve kafka.strimzi.io/v1/Kafka: install Strimzi 1.x, which serves "
            "kafka.strimzi.io/v1" in refused.stderr
        ), refused.stderr
        assert release.helm.run("list", "-a", "-q", "-n", release.namespace).stdout.strip() == ""
    finally:
        serve(True)
    accepted = release.install("--dry-run=server")
    assert accepted.returncode == 0, accepted.stderr
