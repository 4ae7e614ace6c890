"""The local control plane is a real one: CRD schemas, Pod Security admission, RBAC and scheduling
are enforced by the real kube-apiserver, controller-manager and scheduler, with pods on a kwok node."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest
import yaml

from fraud_dev.cluster.client import CommandError

OPERATOR_CRDS = {
    "flinkdeployments.flink.apache.org",
    "flinksessionjobs.flink.apache.org",
    "flinkstatesnapshots.flink.apache.org",
    "kafkas.kafka.strimzi.io",
    "kafkatopics.kafka.strimzi.io",
    "kafkanodepools.kafka.strimzi.io",
    "podmonitors.monitoring.coreos.com",
    "servicemonitors.monitoring.coreos.com",
    "prometheusrules.monitoring.coreos.com",
    "scaledobjects.keda.sh",
    "triggerauthentications.keda.sh",
}


@pytest.fixture
def namespace(cluster):
    """A namespace of the test's own, deleted afterwards (without waiting for its finalizers)."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    cluster.kubectl.run("create", "namespace", name)
    yield name
    cluster.kubectl.run("delete", "namespace", name, "--wait=false")


def apply(cluster, manifest: dict, *flags: str):
    return cluster.kubectl.run("apply", "-f", "-", *flags, input=yaml.safe_dump(manifest), check=False)


def flink_deployment(namespace: str, **spec_changes) -> dict:
    spec = {
        "image": "statefun-fraud-runtime:dev",
        "flinkVersion": "v1_16",
        "serviceAccount": "flink",
        "jobManager": {"resource": {"memory": "1024m", "cpu": 1}},
        "taskManager": {"resource": {"memory": "1024m", "cpu": 1}, "replicas": 1},
    }
    spec.update(spec_changes)
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "fraud-runtime", "namespace": namespace},
        "spec": spec,
    }


def test_the_servers_report_the_pinned_kubernetes_version(cluster):
    versions = json.loads(cluster.kubectl.run("version", "-o", "json").stdout)
    assert versions["serverVersion"]["gitVersion"] == "v1.34.4"
    assert versions["clientVersion"]["gitVersion"] == "v1.34.4"


def test_the_operator_crds_are_established_and_served(cluster):
    crds = cluster.kubectl.json("get", "crd")["items"]
    established = {
        crd["metadata"]["name"]
        for crd in crds
        if any(c["type"] == "Established" and c["status"] == "True" for c in crd["status"]["conditions"])
    }
    assert established >= OPERATOR_CRDS
    resources = cluster.kubectl.run("api-resources", "--api-group=flink.apache.org", "-o", "name").stdout.split()
    assert "flinkdeployments.flink.apache.org" in resources
    assert cluster.kubectl.json("get", "flinkdeployments", "-A")["items"] == []


def test_a_valid_flinkdeployment_is_accepted_and_stored(cluster, namespace):
    result = apply(cluster, flink_deployment(namespace))
    assert result.returncode == 0, result.stderr
    stored = cluster.kubectl.json("get", "flinkdeployment", "fraud-runtime", "-n", namespace)
    assert stored["spec"]["taskManager"]["replicas"] == 1


def test_the_server_refuses_a_flinkdeployment_with_a_wrong_type(cluster, namespace):
    manifest = flink_deployment(namespace, taskManager={"resource": {"memory": "1024m", "cpu": 1}, "replicas": "two"})
    result = apply(cluster, manifest, "--dry-run=server")
    assert result.returncode != 0
    assert "spec.taskManager.replicas" in result.stderr and "must be of type integer" in result.stderr


def test_the_server_refuses_a_flinkdeployment_with_an_unknown_field(cluster, namespace):
    manifest = flink_deployment(namespace, imagee="typo:1")
    result = apply(cluster, manifest, "--dry-run=server", "--validate=strict")
    assert result.returncode != 0
    assert 'unknown field "spec.imagee"' in result.stderr


def test_the_server_refuses_an_unsupported_flink_version(cluster, namespace):
    result = apply(cluster, flink_deployment(namespace, flinkVersion="v9_99"), "--dry-run=server")
    assert result.returncode != 0
    assert 'Unsupported value: "v9_99"' in result.stderr


def pod(name: str, namespace: str, security_context: dict, container_security: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "securityContext": security_context,
            "containers": [
                {"name": "app", "image": "statefun-fraud-functions:dev", "securityContext": container_security}
            ],
        },
    }


PRIVILEGED = {"privileged": True}
HARDENED_POD = {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}}
HARDENED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
}


def test_a_restricted_namespace_refuses_a_privileged_pod_and_accepts_a_hardened_one(cluster, namespace):
    cluster.kubectl.run("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    refused = apply(cluster, pod("privileged", namespace, {}, PRIVILEGED))
    assert refused.returncode != 0
    assert 'violates PodSecurity "restricted:latest"' in refused.stderr and "privileged" in refused.stderr
    accepted = apply(cluster, pod("hardened", namespace, HARDENED_POD, HARDENED_CONTAINER))
    assert accepted.returncode == 0, accepted.stderr


def test_without_the_label_the_same_privileged_pod_is_admitted(cluster, namespace):
    """So the refusal above is Pod Security admission's doing, not a server that refuses privileged pods."""
    result = apply(cluster, pod("privileged", namespace, {}, PRIVILEGED), "--dry-run=server")
    assert result.returncode == 0, result.stderr


def test_a_deployment_reaches_its_replicas_on_the_kwok_node(cluster, namespace):
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "functions", "namespace": namespace},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "functions"}},
            "template": {
                "metadata": {"labels": {"app": "functions"}},
                "spec": {
                    "nodeSelector": {"type": "kwok"},
                    "containers": [
                        {
                            "name": "functions",
                            "image": "statefun-fraud-functions:dev",
                            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                        }
                    ],
                },
            },
        },
    }
    assert apply(cluster, deployment).returncode == 0
    cluster.kubectl.run("rollout", "status", "deployment/functions", "-n", namespace, "--timeout=90s", timeout=120)
    status = cluster.kubectl.json("get", "deployment", "functions", "-n", namespace)["status"]
    assert status["readyReplicas"] == status["availableReplicas"] == 3
    pods = cluster.kubectl.json("get", "pods", "-n", namespace, "-l", "app=functions")["items"]
    assert [p["status"]["phase"] for p in pods] == ["Running"] * 3
    assert {p["spec"]["nodeName"] for p in pods} == {"kwok-node-0"}


def test_rbac_denies_an_unprivileged_service_account(cluster, namespace):
    cluster.kubectl.run("create", "serviceaccount", "nobody", "-n", namespace)
    who = f"system:serviceaccount:{namespace}:nobody"
    denied = cluster.kubectl.run("auth", "can-i", "list", "secrets", "-n", namespace, f"--as={who}", check=False)
    assert (denied.returncode, denied.stdout.strip()) == (1, "no")
    allowed = cluster.kubectl.run("auth", "can-i", "list", "secrets", "-n", namespace)
    assert allowed.stdout.strip() == "yes"


def test_a_real_service_account_token_is_authenticated_and_then_forbidden(cluster, namespace):
    """Not impersonation: the server verifies a token it signed, then RBAC refuses the request."""
    cluster.kubectl.run("create", "serviceaccount", "nobody", "-n", namespace)
    token = cluster.kubectl.run("create", "token", "nobody", "-n", namespace).stdout.strip()
    plane = cluster.plane.config
    with pytest.raises(
        CommandError, match=f'forbidden: User "system:serviceaccount:{namespace}:nobody" cannot list resource "secrets"'
    ):
        cluster.kubectl.run(
            "get",
            "secrets",
            "-n",
            namespace,
            "--kubeconfig=/dev/null",
            f"--server={plane.apiserver_url}",
            f"--certificate-authority={plane.pki / 'ca.crt'}",
            f"--token={token}",
        )


def test_helm_runs_against_the_control_plane(cluster):
    assert cluster.helm.run("version", "--short").stdout.startswith("v3.19.0")
    assert json.loads(cluster.helm.run("list", "--all-namespaces", "-o", "json").stdout) == []


def loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]").removeprefix("::ffff:")
    return host.startswith("127.") or host == "::1"


def test_every_socket_of_the_plane_is_on_loopback(cluster):
    """Listeners bound to 127.0.0.1 and connections only between loopback addresses: nothing leaves the machine."""
    pids = {record.pid for record in cluster.plane.state.records()}
    sockets = subprocess.run(["ss", "-tuanpH"], capture_output=True, text=True, check=True).stdout.splitlines()
    ours = [line.split() for line in sockets if any(f"pid={pid}," in line for pid in pids)]
    assert len(ours) >= len(pids)  # every process listens on at least one port
    for fields in ours:
        local, peer = fields[4], fields[5]
        assert loopback(local), fields
        assert loopback(peer) or peer in ("0.0.0.0:*", "*:*", "[::]:*"), fields
