"""Where the control plane runs, on which loopback ports, and where its binaries are."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from fraud_common.settings import env_int, env_str
from fraud_dev.paths import CRDS_DIR, REPO_ROOT, TOOLS_BIN, TOOLS_INSTALL  # noqa: F401 - re-exported for the harness
from fraud_dev.ports import PortSet


@dataclass(frozen=True)
class ClusterPorts(PortSet):
    """Defaults clear of the local stack's 8000/8081/8090/9092/9093/9249 and of Kubernetes' usual ports,
    so `make run` and a kind/kubeadm cluster can share the machine."""

    apiserver: int = 16443
    etcd: int = 12379
    etcd_peer: int = 12380
    controller_manager: int = 12257
    scheduler: int = 12259
    kwok: int = 12247

    VARIABLES: ClassVar[Mapping[str, str]] = {
        "apiserver": "CLUSTER_APISERVER_PORT",
        "etcd": "CLUSTER_ETCD_PORT",
        "etcd_peer": "CLUSTER_ETCD_PEER_PORT",
        "controller_manager": "CLUSTER_CONTROLLER_MANAGER_PORT",
        "scheduler": "CLUSTER_SCHEDULER_PORT",
        "kwok": "CLUSTER_KWOK_PORT",
    }


@dataclass(frozen=True)
class ClusterConfig:
    run_dir: Path
    ports: ClusterPorts
    tools_bin: Path
    kwok_nodes: int = 1

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ClusterConfig:
        return cls(
            run_dir=Path(env_str("CLUSTER_RUN_DIR", str(REPO_ROOT / ".run" / "cluster"), env)).resolve(),
            ports=ClusterPorts.from_env(env),
            tools_bin=Path(env_str("TOOLS_BIN", str(TOOLS_BIN), env)).resolve(),
            kwok_nodes=env_int("CLUSTER_KWOK_NODES", 1, env, minimum=1, maximum=50),
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
