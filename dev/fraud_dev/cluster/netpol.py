"""NetworkPolicy enforcement on the real node: kube-network-policies, the engine kind's kindnet embeds, run as
a process in the node's namespaces beside the bridge CNI (as CoreDNS and metrics-server run), and the one
part of it that is a stand-in here: the rules that hand it the packets (ADR 0010).

The engine, unchanged from its release, watches NetworkPolicies, namespaces and pods and gives a verdict on
every packet the kernel queues to it over NFQUEUE: the first packet of each new connection to or from a pod
(what conntrack already tracks as established passes without it). As its DaemonSet pod would, it finds the
API server through KUBERNETES_SERVICE_HOST/PORT and authenticates with the token of its ServiceAccount,
bound to upstream's ClusterRole (list and watch pods, namespaces and NetworkPolicies); the token is written
where in-cluster clients read it, in the node's private /run.

The stand-in: the engine installs an nftables table whose rules queue packets with nftables' `queue`
expression. This machine's kernel is built without that expression (CONFIG_NFT_QUEUE unset, and no loadable
modules), so the table is refused (`conn.Receive: netlink receive: no such file or directory`) and the
engine, which logs the error and carries on, would be handed nothing: every policy would be silently open.
The kernel has the same queue through iptables' NFQUEUE target (xt_NFQUEUE over nft_compat), so the same
rules are written with it, in the order upstream writes them: traffic of the node's root processes (the
kubelet's probes) and established connections pass, everything else to or from a pod goes to the engine's
queue. Where upstream queues only pods some policy selects, this queues every pod's new connections; the
engine allows what no policy selects, so the verdicts are the same. Without `--queue-bypass`, as upstream
without --fail-open: while the engine is down, new pod connections are dropped, not let through.

Traffic between a pod and its node is never filtered (Kubernetes allows it whatever the policies say; a
packet to the node's address is delivered locally and never reaches these rules), which is why Kafka runs
on a host outside the node (external.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fraud_dev.cluster.client import Tool
from fraud_dev.cluster.config import ClusterConfig
from fraud_dev.cluster.netns import Addressing, NetworkNamespace
from fraud_dev.cluster.nodes import Launch
from fraud_dev.process import Service

ENGINE = "kube-network-policies"
QUEUE = 100  # the engine's default --nfqueue-id
METRICS = "127.0.0.1:9080"
CHAIN = "FRAUD-NETWORK-POLICIES"
# Where client-go's in-cluster configuration reads the pod's ServiceAccount (inside the node's mount namespace).
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# Upstream's install.yaml (v0.8.0): the ServiceAccount, and the rights the controller's informers need.
RBAC = f"""apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ServiceAccount
    metadata: {{name: {ENGINE}, namespace: kube-system}}
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {{name: {ENGINE}}}
    rules:
      - {{apiGroups: [""], resources: [pods, namespaces], verbs: [list, watch]}}
      - {{apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [list, watch]}}
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {{name: {ENGINE}}}
    roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {ENGINE}}}
    subjects: [{{kind: ServiceAccount, name: {ENGINE}, namespace: kube-system}}]
"""


def diversion_rules(addressing: Addressing) -> str:
    """The stand-in for the engine's nftables table, as `iptables-restore --noflush` input (mangle's
    POSTROUTING: after routing and kube-proxy's DNAT, so the engine sees the pod a Service chose)."""
    return f"""*mangle
:{CHAIN} - [0:0]
-A POSTROUTING -j {CHAIN}
-A {CHAIN} -m owner --uid-owner 0 -j RETURN
-A {CHAIN} -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
-A {CHAIN} -s {addressing.pod_cidr} -j NFQUEUE --queue-num {QUEUE}
-A {CHAIN} -d {addressing.pod_cidr} -j NFQUEUE --queue-num {QUEUE}
COMMIT
"""


@dataclass(frozen=True)
class NetworkPolicyEngine:
    netns: NetworkNamespace
    node_name: str

    def start(self, config: ClusterConfig, home: Path, launch: Launch, kubectl: Tool) -> None:
        """Its identity, the engine (ready once its queue is bound: its informers have synced by then), and only
        then the rules that feed the queue, so no packet waits on a queue nobody reads."""
        kubectl.run("apply", "--server-side", "-f", "-", input=RBAC)
        token = kubectl.run("create", "token", ENGINE, "-n", "kube-system", "--duration=24h").stdout.strip()
        self.netns.run("mkdir", "-p", SERVICE_ACCOUNT_DIR)
        for name, content in (
            ("token", token),
            ("ca.crt", (config.pki / "ca.crt").read_text(encoding="utf-8")),
            ("namespace", "kube-system"),
        ):
            self.netns.run("sh", "-c", f'cat > "$0/{name}"', SERVICE_ACCOUNT_DIR, input=content)
        service = Service(
            name=ENGINE,
            argv=self.netns.argv(
                [
                    config.binary(ENGINE),
                    f"--hostname-override={self.node_name}",
                    f"--nfqueue-id={QUEUE}",
                    f"--metrics-bind-address={METRICS}",
                    # Its workaround for a conntrack race on DNS is needed only before Linux 6.12 (its help says).
                    "--netfilter-bug-1766-fix=false",
                    "--v=2",  # one line per verdict: what a failing policy test needs to be read
                ],
                home,
            ),
            log_path=config.logs / f"{ENGINE}.log",
            env={"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(config.ports.apiserver)},
            cwd=home,
            stop_timeout=30,
        )
        launch(service, lambda: queue_bound(self.netns), 90)
        self.netns.run("iptables-restore", "--noflush", input=diversion_rules(self.netns.addressing))


def queue_bound(netns: NetworkNamespace) -> bool:
    """Whether a process listens on the engine's queue in the node's network namespace."""
    queues = netns.run("cat", "/proc/net/netfilter/nfnetlink_queue")
    return any(line.split()[:1] == [str(QUEUE)] for line in queues.splitlines())
