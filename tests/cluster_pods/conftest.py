"""One real-node cluster for the session, with the chart installed as a user installs it.

The cluster (dev/fraud_dev/cluster/podcluster.py) lives in a network namespace of its own; this
process's main thread joins that namespace's network for the session, so Kafka, Flink's REST API,
pods and Services are reached at their addresses inside it, and nothing here can reach out.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fraud_common.kafka_security import KafkaConnection
from fraud_dev.cluster.client import Tool
from fraud_dev.cluster.config import REPO_ROOT, TOOLS_INSTALL
from fraud_dev.cluster.podcluster import PodCluster
from fraud_dev.pipeline import Kafka
from tests.cluster_pods.spec import VALUES, cluster_spec, values
from tests.support.linux_root import missing_linux_root, skip_unless_runnable

CHART = REPO_ROOT / "charts" / "fraud-platform"
RELEASE, NAMESPACE = "fraud", "fraud"
JOBMANAGER = f"{RELEASE}-statefun-jobmanager"
# The flink user of the runtime image (the stand-in base's, as the official image's: docs/adr/0014).
FLINK_UID = 9999
# Seconds per step of the session's cluster start, for the summary at the end of the run.
TIMINGS: dict[str, float] = {}
NEEDED_TOOLS = ("etcd", "kubernetes", "helm", "cni-plugins", "coredns", "metrics-server", "kube-network-policies")
NEEDED_COMMANDS = (
    "containerd",
    "containerd-shim-runc-v2",
    "runc",
    "ctr",
    "buildah",
    "mmdebstrap",
    "iptables",
    "nsenter",
    "unshare",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cluster_pods: the chart in real pods on a real kubelet (Linux, root; slow)")


def pytest_terminal_summary(terminalreporter) -> None:
    """How long each step of bringing the cluster up took (cold and warm runs differ in the first two)."""
    if TIMINGS:
        terminalreporter.write_sep("-", "real-node cluster: time per step")
        for step, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{seconds:7.1f} s  {step}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = missing_linux_root("the real-node cluster", "namespaces, containerd, cgroups")
    for item in items:
        if "tests/cluster_pods" in str(item.fspath):
            item.add_marker(pytest.mark.cluster_pods)
            skip_unless_runnable(item, reason)


def checkpoint_volume(kubectl: Tool, folder: Path) -> None:
    """The PersistentVolume the chart's checkpoint claim binds: a folder on the node (hostPath), of the storage class
    the values name, kept when released (a reinstall's claim finds the same checkpoints). Owned by the flink user:
    a hostPath volume gets no fsGroup ownership."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chown(folder, FLINK_UID, FLINK_UID)
    pvc = values()["statefun"]["storage"]["pvc"]
    volume = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "fraud-checkpoints"},
        "spec": {
            "capacity": {"storage": pvc["size"]},
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": pvc["storageClassName"],
            "persistentVolumeReclaimPolicy": "Retain",
            "hostPath": {"path": str(folder), "type": "Directory"},
        },
    }
    kubectl.run("apply", "-f", "-", input=json.dumps(volume))


@dataclass
class JobManagerService:
    """The StateFun runtime's Flink REST API through the JobManager's Service (fraud_dev.pipeline.FlinkRuntime):
    its ClusterIP, which kube-proxy routes from the node to the leader's pod."""

    kubectl: Tool

    @property
    def flink_rest_url(self) -> str:
        address = self.kubectl.run(
            "get", "service", "-n", NAMESPACE, JOBMANAGER, "-o", "jsonpath={.spec.clusterIP}"
        ).stdout.strip()
        return f"http://{address}:8081"


@dataclass
class Release:
    """The installed chart and the cluster around it, as the tests use them."""

    cluster: PodCluster
    kafka: Kafka

    @property
    def kubectl(self) -> Tool:
        return self.cluster.kubectl

    @property
    def helm(self) -> Tool:
        return self.cluster.helm()

    @property
    def stack(self):
        return self.cluster.stack

    @property
    def checkpoint_folder(self) -> Path:
        """The node's folder behind the checkpoint PersistentVolume."""
        return self.cluster.run_dir / "checkpoint-volume"

    @property
    def runtime(self) -> JobManagerService:
        return JobManagerService(self.kubectl)

    def pods(self, component: str) -> list[dict]:
        selector = f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/name={component}"
        return self.kubectl.json("get", "pods", "-n", NAMESPACE, "-l", selector)["items"]


def install_args(cluster: PodCluster) -> list[str]:
    """`helm install` of the release with the chart's values for this cluster: values.yaml, and the API server's address
    as the node serves it, so that the Flink pods' egress to it is narrowed as a user narrows it
    (networkPolicy.kubeApiServer.mode cidrs: the `kubernetes` Service's EndpointSlice, which kube-proxy has translated
    by the time a policy sees the packet). Waited for: the JobManager is Ready once it runs the job, and two JVMs
    start on a fraction of a core each (INSTALL_TIMEOUT for the command)."""
    api_server = {
        "mode": "cidrs",
        "cidrs": [f"{cluster.netns.addressing.node_ip}/32"],
        "ports": [cluster.plane_config.ports.apiserver],
    }
    return [
        "install",
        RELEASE,
        str(CHART),
        "-n",
        NAMESPACE,
        "-f",
        str(VALUES),
        "--set-json",
        f"networkPolicy.kubeApiServer={json.dumps(api_server)}",
        "--wait",
        "--timeout=480s",
    ]


INSTALL_TIMEOUT = 510


@pytest.fixture(scope="session")
def pods_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodCluster]:
    missing = [command for command in NEEDED_COMMANDS if not shutil.which(command)]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: make tools-node installs them (apt-get)")
    subprocess.run([str(TOOLS_INSTALL), *NEEDED_TOOLS], check=True, capture_output=True)
    cluster = PodCluster(
        tmp_path_factory.mktemp("pods-cluster"),
        cluster_spec(),
        say=lambda message: print(f"[pods-cluster] {message}", flush=True),
        timings=TIMINGS,
    )
    with cluster:
        yield cluster


@pytest.fixture(scope="session")
def release(pods_cluster: PodCluster) -> Release:
    """`helm install` of the chart with this cluster's values into a namespace that enforces the
    restricted Pod Security Standard, waited for until every pod is Ready."""
    kubectl = pods_cluster.kubectl
    assert pods_cluster.stack is not None
    kafka = Kafka(KafkaConnection(pods_cluster.stack.bootstrap))
    checkpoint_volume(kubectl, Release(pods_cluster, kafka).checkpoint_folder)
    kubectl.run("create", "namespace", NAMESPACE)
    kubectl.run("label", "namespace", NAMESPACE, "pod-security.kubernetes.io/enforce=restricted")
    started = time.monotonic()
    installed = pods_cluster.helm().run(*install_args(pods_cluster), timeout=INSTALL_TIMEOUT, check=False)
    if installed.returncode != 0:
        pytest.fail(f"helm install failed: {installed.stderr.strip()}\n{_diagnosis(kubectl)}")
    # The Deployment starts with one pod; the HPA brings it to its minimum at its first sync.
    minimum = str(values()["functions"]["autoscaling"]["minReplicas"])
    kubectl.run(
        "wait",
        "-n",
        NAMESPACE,
        f"deployment/{RELEASE}-functions",
        "--timeout=120s",
        f"--for=jsonpath={{.status.readyReplicas}}={minimum}",
        timeout=150,
    )
    TIMINGS["helm install, every pod Ready"] = time.monotonic() - started
    return Release(pods_cluster, kafka)


def _diagnosis(kubectl: Tool) -> str:
    """What the pods and events of the release say, for a failure message that can be acted on."""
    pods = kubectl.run("get", "pods", "-n", NAMESPACE, "-o", "wide", check=False).stdout
    events = kubectl.run("get", "events", "-n", NAMESPACE, "--sort-by=.lastTimestamp", check=False).stdout
    logs = kubectl.run(
        "logs",
        "-n",
        NAMESPACE,
        "--all-containers",
        "--tail=20",
        "--prefix",
        "-l",
        f"app.kubernetes.io/instance={RELEASE}",
        check=False,
    ).stdout
    return f"pods:\n{pods}\nevents:\n{events[-4000:]}\nlogs:\n{logs[-4000:]}"
