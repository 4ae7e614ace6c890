"""One real-node cluster for the session, with the chart installed as a user installs it.

The cluster (dev/fraud_dev/cluster/podcluster.py) lives in a network namespace of its own; this
process's main thread joins that namespace's network for the session, so Kafka, Flink's REST API,
pods and Services are reached at their addresses inside it, and nothing here can reach out.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from fraud_common.kafka_security import KafkaConnection
from fraud_dev.cluster.client import Tool
from fraud_dev.cluster.config import REPO_ROOT, TOOLS_INSTALL
from fraud_dev.cluster.podcluster import PodCluster, PodClusterSpec
from fraud_dev.pipeline import Kafka
from tests.support.linux_root import missing_linux_root, skip_unless_runnable

CHART = REPO_ROOT / "charts" / "fraud-platform"
VALUES = Path(__file__).with_name("values.yaml")
RELEASE, NAMESPACE = "fraud", "fraud"
# The tag `helm upgrade` moves the functions to: a second build of the same target (a label differs).
UPGRADE_TAG = "node-2"
TOOLS_BIN = REPO_ROOT / ".cache" / "tools" / "bin"
# Seconds per step of the session's cluster start, for the summary at the end of the run.
TIMINGS: dict[str, float] = {}
# helm template checks the chart's kubeVersion against the version it is told: the pinned one.
KUBERNETES_VERSION = next(
    line.split()[2]
    for line in (REPO_ROOT / "dev" / "tools" / "versions").read_text().splitlines()
    if line.startswith("kubernetes ")
)
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


def values() -> dict:
    return yaml.safe_load(VALUES.read_text(encoding="utf-8"))


def image_tags() -> dict[str, tuple[str, ...]]:
    images = values()["images"]
    return {
        "functions": (images["functions"]["tag"], UPGRADE_TAG),
        "merchant-service": (images["merchantService"]["tag"],),
        "simulator": (images["simulator"]["tag"],),
    }


def module_spec() -> str:
    """The module spec the chart renders for this release (its statefun ConfigMap), by `helm template`."""
    rendered = subprocess.run(
        [
            str(TOOLS_BIN / "helm"),
            "template",
            RELEASE,
            str(CHART),
            "-n",
            NAMESPACE,
            "-f",
            str(VALUES),
            "--kube-version",
            KUBERNETES_VERSION,
            "--show-only",
            "templates/statefun.yaml",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    configmap = next(
        doc
        for doc in yaml.safe_load_all(rendered)
        if doc and doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == f"{RELEASE}-statefun-module"
    )
    return configmap["data"]["module.yaml"]


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

    def pods(self, component: str) -> list[dict]:
        selector = f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/name={component}"
        return self.kubectl.json("get", "pods", "-n", NAMESPACE, "-l", selector)["items"]


@pytest.fixture(scope="session")
def pods_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodCluster]:
    missing = [command for command in NEEDED_COMMANDS if not shutil.which(command)]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: make tools-node installs them (apt-get)")
    subprocess.run([str(TOOLS_INSTALL), *NEEDED_TOOLS], check=True, capture_output=True)
    cluster = PodCluster(
        tmp_path_factory.mktemp("pods-cluster"),
        PodClusterSpec(image_tags(), module_spec()),
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
    kubectl.run("create", "namespace", NAMESPACE)
    kubectl.run("label", "namespace", NAMESPACE, "pod-security.kubernetes.io/enforce=restricted")
    started = time.monotonic()
    installed = pods_cluster.helm().run(
        "install",
        RELEASE,
        str(CHART),
        "-n",
        NAMESPACE,
        "-f",
        str(VALUES),
        "--wait",
        "--timeout=300s",
        timeout=330,
        check=False,
    )
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
    assert pods_cluster.stack is not None
    return Release(pods_cluster, Kafka(KafkaConnection(pods_cluster.stack.bootstrap)))


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
