"""Where the real kube-scheduler puts the Flink pods the operator would make from the chart's FlinkDeployment
(docs/adr/0011), on four kwok nodes: two JobManagers and three TaskManagers, created at once from the pod
templates with the FlinkDeployment's image. With the default ReadWriteOnce claim they all land on one node;
with S3 storage each component spreads over several. And why the chart refuses a required pod affinity of the
user's beside its own: such a pod stays Pending.

Not modelled: volumes (no volume attaches on kwok nodes, so the claim is an emptyDir here; the Multi-Attach hang
itself is not reproduced) and the operator (the pods are made as it would make them, by this test).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
import yaml

from fraud_dev.cluster.nodes import kwok_node
from tests.cluster.chart import delete_namespaces, wait_for
from tests.deploy.tools import documents, helm_template

NAMESPACE = "placement"
EXTRA_NODES = ("kwok-node-p1", "kwok-node-p2", "kwok-node-p3")
S3 = ("--set", "statefun.storage.type=s3,statefun.storage.s3.bucket=b,statefun.storage.s3.credentialsSecret.name=c")
COUNTS = {"jobManager": 2, "taskManager": 3}


@pytest.fixture(scope="module")
def nodes(cluster) -> Iterator[None]:
    """Three more kwok nodes beside the plane's kwok-node-0, for this module only."""
    nodes = {"apiVersion": "v1", "kind": "List", "items": [kwok_node(name) for name in EXTRA_NODES]}
    cluster.kubectl.run("apply", "--server-side", "-f", "-", input=yaml.safe_dump(nodes))
    cluster.kubectl.run("create", "namespace", NAMESPACE)
    try:
        cluster.kubectl.run("wait", "--for=condition=Ready", "--timeout=60s", *[f"node/{n}" for n in EXTRA_NODES])
        yield
    finally:
        cluster.kubectl.run("delete", "pods", "--all", "-n", NAMESPACE, "--grace-period=0", "--force", check=False)
        delete_namespaces(cluster.kubectl, NAMESPACE)
        cluster.kubectl.run("delete", "node", *EXTRA_NODES, "--wait=false", check=False)


def flink_pods(*helm_args: str, extra_term: dict | None = None) -> list[dict]:
    """The pods the operator would make from the rendered FlinkDeployment (COUNTS of each component), with the
    checkpoint claim as an emptyDir; `extra_term` adds a required pod affinity term of the user's."""
    rendered = helm_template(*helm_args, release="fraud", namespace=NAMESPACE)
    assert rendered.returncode == 0, rendered.output
    (flink,) = [d for d in documents(rendered.stdout) if d["kind"] == "FlinkDeployment"]
    pods = []
    for component, count in COUNTS.items():
        template = flink["spec"][component]["podTemplate"]
        for index in range(count):
            spec = copy.deepcopy(template["spec"])
            spec["containers"][0]["image"] = flink["spec"]["image"]
            spec["volumes"] = [
                {"name": v["name"], "emptyDir": {}} if "persistentVolumeClaim" in v else v for v in spec["volumes"]
            ]
            if extra_term:
                spec["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"].append(extra_term)
            name = f"{component.lower()}-{index}"
            metadata = {"name": name, "namespace": NAMESPACE, "labels": template["metadata"]["labels"]}
            pods.append({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
    return pods


def placed(cluster, pods: list[dict]) -> dict[str, str]:
    """Create the pods at once, wait until the scheduler has bound every one, then return pod -> node."""
    cluster.kubectl.run("apply", "-f", "-", input=yaml.safe_dump_all(pods))
    names = [p["metadata"]["name"] for p in pods]

    def unbound() -> list[str]:
        found = {p["metadata"]["name"]: p for p in cluster.kubectl.json("get", "pods", "-n", NAMESPACE)["items"]}
        return [name for name in names if not found.get(name, {}).get("spec", {}).get("nodeName")]

    assert wait_for(unbound, timeout=60) == []
    bound = {
        p["metadata"]["name"]: p["spec"]["nodeName"]
        for p in cluster.kubectl.json("get", "pods", "-n", NAMESPACE)["items"]
    }
    cluster.kubectl.run("delete", "pods", "--all", "-n", NAMESPACE, "--grace-period=0", "--force")
    assert (
        wait_for(
            lambda: [p["metadata"]["name"] for p in cluster.kubectl.json("get", "pods", "-n", NAMESPACE)["items"]],
            timeout=60,
        )
        == []
    )
    return bound


def test_with_read_write_once_every_flink_pod_lands_on_one_node(cluster, nodes):
    bound = placed(cluster, flink_pods())
    assert len(bound) == sum(COUNTS.values())
    assert len(set(bound.values())) == 1, bound


def test_with_shared_storage_each_component_spreads_over_nodes(cluster, nodes):
    bound = placed(cluster, flink_pods(*S3))
    jobmanagers = {node for pod, node in bound.items() if pod.startswith("jobmanager")}
    taskmanagers = {node for pod, node in bound.items() if pod.startswith("taskmanager")}
    assert len(jobmanagers) == COUNTS["jobManager"], bound  # the standby away from the leader
    assert len(taskmanagers) >= 2, bound


def test_a_users_required_pod_affinity_beside_the_charts_leaves_the_pod_pending(cluster, nodes):
    """Why templates/_validate.tpl refuses it: the scheduler wants one pod that matches every required term."""
    term = {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "anything-else"}}}
    (pod, *_) = flink_pods(extra_term=term)
    cluster.kubectl.run("apply", "-f", "-", input=yaml.safe_dump(pod))
    name = pod["metadata"]["name"]

    def not_refused() -> list[str]:
        status = cluster.kubectl.json("get", "pod", name, "-n", NAMESPACE)["status"]
        condition: dict[str, str] = next((c for c in status.get("conditions", []) if c["type"] == "PodScheduled"), {})
        refused = condition.get("reason") == "Unschedulable" and "affinity" in condition.get("message", "")
        return [] if refused else [str(condition)]

    try:
        assert wait_for(not_refused, timeout=30) == []
        assert not cluster.kubectl.json("get", "pod", name, "-n", NAMESPACE)["spec"].get("nodeName")
    finally:
        cluster.kubectl.run("delete", "pod", name, "-n", NAMESPACE, "--grace-period=0", "--force", check=False)
