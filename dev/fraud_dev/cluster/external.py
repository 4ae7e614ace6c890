"""A host outside the node, for what a cluster reaches by address rather than by selector: the Kafka broker.

Kubernetes always allows traffic between a pod and the node it runs on, whatever the NetworkPolicies say,
and kube-network-policies never even sees it (a packet to the node's own address is delivered locally,
never routed through the hooks it filters). A broker listening on the node's address could therefore not
be refused to any pod, and a test that functions cannot reach Kafka could not fail. So the broker runs
here, in a network namespace of its own linked to the node's by a veth pair on a subnet of its own: pods
reach it routed through the node, as they reach an external Kafka on a real cluster, subject to their
egress policies and allowed by CIDR (`kafka.external.cidrs`).

Its only interfaces are loopback and its end of that pair; its only route beyond its subnet goes through
the node. Nothing links it to the host's namespace, so no packet sent inside can leave the cluster's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fraud_dev.cluster.netns import Holder, NetworkNamespace

NODE_LINK = "external0"  # the node's end of the pair
HOST_LINK = "eth0"  # the external host's end


@dataclass
class ExternalHost:
    """`create` after the node's namespace, `destroy` before it."""

    node: NetworkNamespace
    holder: Holder = field(default_factory=lambda: Holder("external", ("net",)))

    @property
    def address(self) -> str:
        return self.node.addressing.external_host

    def create(self) -> None:
        a = self.node.addressing
        self.holder.start()
        # Made inside the node's namespace with its other end created directly in this one.
        self.node.run("ip", "link", "add", NODE_LINK, "type", "veth", "peer", "name", HOST_LINK, "netns", str(self.pid))
        self.node.run("ip", "addr", "add", f"{a.external_gateway}/{a.external_prefix}", "dev", NODE_LINK)
        self.node.run("ip", "link", "set", NODE_LINK, "up")
        for command in (
            ["ip", "link", "set", "lo", "up"],
            ["ip", "addr", "add", f"{a.external_host}/{a.external_prefix}", "dev", HOST_LINK],
            ["ip", "link", "set", HOST_LINK, "up"],
            # Replies to pods and to the node go back through the node, which routes them to the pods' bridge.
            ["ip", "route", "add", "default", "via", a.external_gateway],
        ):
            self.holder.run(*command)

    def destroy(self, timeout: float = 20) -> list[str]:
        """Stop what runs inside and the holder (the pair goes with the namespace). Returns what is left."""
        self.holder.stop(timeout)
        return [f"pid {pid} still in the external host's namespace" for pid in self.holder.members()]

    @property
    def pid(self) -> int:
        return self.holder.pid

    def argv(self, argv: Sequence[str], wd: Path) -> list[str]:
        """`argv` run in this host's network namespace (the host's mounts: it writes only under its run folder)."""
        return self.holder.argv(argv, wd)

    def run(self, *argv: str) -> str:
        return self.holder.run(*argv)
