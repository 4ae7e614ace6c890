"""Where the control plane runs, on which loopback ports, and where its binaries are."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from fraud_common.settings import read_settings, setting
from fraud_dev.paths import CRDS_DIR, REPO_ROOT, TOOLS_BIN, TOOLS_INSTALL  # noqa: F401 - re-exported for the harness
from fraud_dev.ports import PortSet, port


@dataclass(frozen=True)
class ClusterPorts(PortSet):
    """Defaults clear of the local stack's 8000/8081/8090/9092/9093/9249 and of Kubernetes' usual ports,
    so `make run` and a kind/kubeadm cluster can share the machine."""

    apiserver: int = port("CLUSTER_APISERVER_PORT", 16443, "kube-apiserver")
    etcd: int = port("CLUSTER_ETCD_PORT", 12379, "etcd's clients")
    etcd_peer: int = port("CLUSTER_ETCD_PEER_PORT", 12380, "etcd's peers")
    controller_manager: int = port("CLUSTER_CONTROLLER_MANAGER_PORT", 12257, "kube-controller-manager (secure port)")
    scheduler: int = port("CLUSTER_SCHEDULER_PORT", 12259, "kube-scheduler (secure port)")
    kwok: int = port("CLUSTER_KWOK_PORT", 12247, "kwok's metrics and health")


@dataclass(frozen=True)
class ClusterConfig:
    run_dir: Path = setting(
        "CLUSTER_RUN_DIR",
        REPO_ROOT / ".run" / "cluster",
        "the control plane's certificates, kubeconfig, etcd data and logs",
        shown_default="`.run/cluster` in the repository",
    )
    ports: ClusterPorts = field(default_factory=ClusterPorts)
    tools_bin: Path = setting(
        "TOOLS_BIN", TOOLS_BIN, "where the pinned binaries are", shown_default="`.cache/tools/bin` in the repository"
    )
    kwok_nodes: int = setting("CLUSTER_KWOK_NODES", 1, "how many fake (kwok) nodes", minimum=1, maximum=50)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ClusterConfig:
        config = read_settings(cls, env)
        return replace(
            config,
            run_dir=config.run_dir.resolve(),
            tools_bin=config.tools_bin.resolve(),
            ports=ClusterPorts.from_env(env),
        )

    @property
    def kubeconfig(self) -> Path:
        """The administrator's kubeconfig (group system:masters)."""
        return self.run_dir / "kubeconfig"

    @property
    def pki(self) -> Path:
        return self.run_dir / "pki"

    @property
    def logs(self) -> Path:
        return self.run_dir / "logs"

    @property
    def apiserver_url(self) -> str:
        return f"https://127.0.0.1:{self.ports.apiserver}"

    def binary(self, name: str) -> str:
        return str(self.tools_bin / name)
