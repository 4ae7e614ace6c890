"""Where pods go: node providers the control plane starts after its own components are ready.

Today kwok's fake nodes: kwok plays the kubelet for every Node annotated `kwok.x-k8s.io/node: fake`,
so pods are scheduled, bound and reported Running without any container. A later provider (a real
kubelet with containerd, CNI and kube-proxy inside a network namespace the scripts make) implements
the same protocol: start its processes through `launch`, wait for its nodes, and clean the host
paths it writes whatever its settings say (its `host_paths`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import yaml

from fraud_dev.cluster.client import Tool
from fraud_dev.cluster.components import LOOPBACK, component_kubeconfig
from fraud_dev.cluster.config import ClusterConfig
from fraud_dev.cluster.pki import KWOK
from fraud_dev.process import Service
from fraud_dev.readiness import http_ok

# Start a service, record it in the state file and wait until `ready` holds (the plane's _launch).
Launch = Callable[[Service, Callable[[], bool], float], None]

KWOK_ANNOTATION = "kwok.x-k8s.io/node"
# Fake addresses kwok writes into Node and Pod status. The node's is on loopback, so anything that
# dials a node (the API server for logs or exec) stays on this machine; pod addresses are never dialled
# (no kube-proxy, no CNI) but must not be loopback, which EndpointSlice validation refuses.
KWOK_NODE_IP = LOOPBACK
KWOK_POD_CIDR = "10.244.0.1/16"


class NodeProvider(Protocol):
    def start(self, config: ClusterConfig, launch: Launch, kubectl: Tool) -> None:
        """Start what the nodes need and register them; returns when they are Ready."""

    def host_paths(self) -> tuple[Path, ...]:
        """Paths outside the run directory that this provider's processes write (teardown removes them)."""

    def control_plane_flags(self, component: str, config: ClusterConfig) -> list[str]:
        """Flags the control plane's `component` needs for these nodes (appended: a repeated flag's last value wins)."""


def kwok_node(name: str) -> dict:
    """A Node for kwok to manage; the capacity is what the scheduler fits pods into."""
    capacity = {"cpu": "16", "memory": "64Gi", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {KWOK_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "type": "kwok",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
            },
        },
        "status": {"capacity": capacity, "allocatable": capacity},
    }


class KwokNodes:
    """`count` fake nodes named kwok-node-0.. managed by one kwok process."""

    def __init__(self, count: int = 1):
        self.count = count

    @property
    def names(self) -> list[str]:
        return [f"kwok-node-{index}" for index in range(self.count)]

    def start(self, config: ClusterConfig, launch: Launch, kubectl: Tool) -> None:
        home = config.run_dir / "kwok"
        home.mkdir(parents=True, exist_ok=True)
        kwok = Service(
            name="kwok",
            argv=[
                config.binary("kwok"),
                f"--kubeconfig={component_kubeconfig(config, KWOK)}",
                f"--manage-nodes-with-annotation-selector={KWOK_ANNOTATION}=fake",
                f"--server-address={LOOPBACK}:{config.ports.kwok}",
                f"--node-ip={KWOK_NODE_IP}",
                f"--cidr={KWOK_POD_CIDR}",
                "--node-lease-duration-seconds=40",
            ],
            log_path=config.logs / "kwok.log",
            # kwok reads ~/.kwok/kwok.yaml when it exists: give it a home of its own.
            env={"HOME": str(home)},
            cwd=home,
        )
        launch(kwok, lambda: http_ok(f"http://{LOOPBACK}:{config.ports.kwok}/healthz"), 60)
        nodes = {"apiVersion": "v1", "kind": "List", "items": [kwok_node(name) for name in self.names]}
        kubectl.run("apply", "--server-side", "-f", "-", input=yaml.safe_dump(nodes))
        kubectl.run("wait", "--for=condition=Ready", "--timeout=60s", *[f"node/{name}" for name in self.names])

    def host_paths(self) -> tuple[Path, ...]:
        return ()

    def control_plane_flags(self, component: str, config: ClusterConfig) -> list[str]:
        return []
