"""One real control plane for the whole cluster test session, and runners for kubectl and helm.

The plane runs on free loopback ports in a temporary run directory, so it neither disturbs nor is
disturbed by a `make cluster-up` on the same machine. The chart's tests (test_chart_*, test_kustomize_*,
test_skaffold_*) use the same fixtures: `cluster.kubectl`, `cluster.helm`, `cluster.kubeconfig`, and
`fraud_namespace` for what deploys into the namespace the kustomize tree and skaffold.yaml name.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fraud_dev.cluster import client
from fraud_dev.cluster.config import (
    REPO_ROOT,
    TOOLS_INSTALL,
    ClusterConfig,
    ClusterPorts,
)
from fraud_dev.cluster.plane import ControlPlane
from tests.cluster.chart import create_restricted_namespace, delete_namespaces
from tests.support.linux_root import missing_linux_root, skip_unless_runnable

TOOLS_CACHE = REPO_ROOT / ".cache" / "tools"
# What the control plane and the runners need; dev/tools/install skips what is already built (about a second).
NEEDED_TOOLS = ("etcd", "kubernetes", "kwok", "helm")


def load_wrapper_script():
    """dev/tools/wrapper (a script without .py) as a module, for its parsing of dev/tools/versions and go.mod."""
    loader = importlib.machinery.SourceFileLoader("tools_wrapper", str(REPO_ROOT / "dev" / "tools" / "wrapper"))
    spec = importlib.util.spec_from_loader("tools_wrapper", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["tools_wrapper"] = module  # its dataclasses look their module up there
    loader.exec_module(module)
    return module


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cluster: tests on the local Kubernetes control plane (Linux, root; slow)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything here is marked `cluster`; what needs the binaries or a plane is skipped where it cannot run,
    unless REQUIRE_CLUSTER_TESTS is set."""
    reason = missing_linux_root("the local control plane", "the real-node step needs namespaces")
    for item in items:
        if "tests/cluster" in str(item.fspath):
            item.add_marker(pytest.mark.cluster)
            if {"cluster", "built_tools", "deploy_tools"} & set(getattr(item, "fixturenames", ())):
                skip_unless_runnable(item, reason)


def private_config(run_dir: Path) -> ClusterConfig:
    return ClusterConfig(run_dir=run_dir, ports=ClusterPorts.free(), tools_bin=TOOLS_CACHE / "bin", kwok_nodes=1)


@dataclass(frozen=True)
class Cluster:
    plane: ControlPlane
    kubeconfig: Path
    kubectl: client.Tool
    helm: client.Tool


@pytest.fixture(scope="session")
def built_tools() -> None:
    subprocess.run([str(TOOLS_INSTALL), *NEEDED_TOOLS], check=True)


@pytest.fixture(scope="session")
def deploy_tools() -> None:
    """The deploy and skaffold sets too (helm-unittest, kubeconform, skaffold, ...), for tests of the chart against the
    plane."""
    for tool_set in ("deploy", "skaffold"):
        subprocess.run([str(TOOLS_INSTALL), "--set", tool_set], check=True)


@pytest.fixture(scope="session")
def cluster(built_tools, tmp_path_factory) -> Iterator[Cluster]:
    config = private_config(tmp_path_factory.mktemp("cluster"))
    plane = ControlPlane(config)
    plane.up()
    try:
        yield Cluster(
            plane=plane,
            kubeconfig=config.kubeconfig,
            kubectl=plane.kubectl,
            helm=client.helm(config.binary("helm"), config.kubeconfig, config.run_dir, TOOLS_CACHE / "helm-plugins"),
        )
    finally:
        report = plane.down()
        assert not report.leftovers, report.leftovers


@pytest.fixture(scope="session")
def fraud_namespace(cluster) -> Iterator[str]:
    """`fraud`, the namespace kustomize/ and skaffold.yaml deploy into, enforcing Pod Security `restricted`;
    shared by the tests that deploy there, each of which leaves it empty."""
    create_restricted_namespace(cluster.kubectl, "fraud")
    yield "fraud"
    delete_namespaces(cluster.kubectl, "fraud")
