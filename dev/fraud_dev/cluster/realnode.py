"""A real node: containerd and runc (Debian), a kubelet, bridge CNI, kube-proxy, kube-network-policies, CoreDNS
and metrics-server, all inside the cluster's network namespace (netns.py), next to the control plane.

A `NodeProvider` beside kwok's: `start` launches each daemon through the plane's `launch` (recorded in
its state file, waited for), after the images (images.py) are imported into containerd. Pods get
addresses from host-local IPAM on a bridge, Services work through kube-proxy's iptables rules, names
through CoreDNS (a process on the node's address behind the `kube-dns` Service, as the kubelet's
clusterDNS), NetworkPolicies through kube-network-policies (netpol.py), and `kubectl top`/the HPA through
metrics-server (a process behind the
`v1beta1.metrics.k8s.io` APIService, scraping the kubelet's resource metrics).

Each component authenticates with a certificate of its own identity from the plane's CA: the kubelet
as system:node:<name> (the Node authorizer), kube-proxy as system:kube-proxy (the default
system:node-proxier binding), CoreDNS and metrics-server as users bound to the roles they need.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fraud_dev.cluster import pki
from fraud_dev.cluster.client import CommandError, Tool
from fraud_dev.cluster.config import ClusterConfig
from fraud_dev.cluster.images import PAUSE_IMAGE, import_into_containerd
from fraud_dev.cluster.netns import NetworkNamespace
from fraud_dev.cluster.netpol import NetworkPolicyEngine
from fraud_dev.cluster.nodes import Launch
from fraud_dev.cluster.pki import Identity
from fraud_dev.process import Service, ServiceError, log_tail
from fraud_dev.readiness import http_ok

NODE_NAME = "fraud-node"
KUBELET_PORT = 10250
METRICS_SERVER_PORT = 4443
COREDNS_READY = "127.0.0.1:18181"
COREDNS_HEALTH = "127.0.0.1:18080"
# Every cgroup the kubelet and runc make goes below this one, in each cgroup v1 hierarchy: one tree to remove.
CGROUP_ROOT = "fraud-node"
CGROUP_FS = Path("/sys/fs/cgroup")
# Registry hosts containerd might be asked for: all pointed at a closed loopback port.
REGISTRY_HOSTS = ("docker.io", "registry-1.docker.io", "registry.k8s.io", "quay.io", "ghcr.io", "gcr.io", "localhost")
CLOSED_PORT = "http://127.0.0.1:9"


@dataclass(frozen=True)
class NodeIdentities:
    """The certificates the node's processes present (and the API server's, towards the kubelet)."""

    node_ip: str

    @property
    def kubelet(self) -> Identity:
        return Identity(
            "kubelet",
            f"system:node:{NODE_NAME}",
            organization="system:nodes",
            serves=(f"IP:{self.node_ip}", f"DNS:{NODE_NAME}"),
        )

    @property
    def metrics_server(self) -> Identity:
        return Identity(
            "metrics-server",
            "fraud:metrics-server",
            serves=(f"IP:{self.node_ip}", "DNS:metrics-server.kube-system.svc"),
        )

    # The API server calls kubelets (logs, exec) and, as the aggregation layer's front proxy, metrics-server.
    APISERVER_KUBELET_CLIENT = Identity(
        "apiserver-kubelet-client", "kube-apiserver-kubelet-client", organization="system:masters"
    )
    FRONT_PROXY = Identity("front-proxy-client", "front-proxy-client")
    KUBE_PROXY = Identity("kube-proxy", "system:kube-proxy")
    COREDNS = Identity("coredns", "fraud:coredns")

    def all(self) -> tuple[Identity, ...]:
        return (
            self.kubelet,
            self.metrics_server,
            self.APISERVER_KUBELET_CLIENT,
            self.FRONT_PROXY,
            self.KUBE_PROXY,
            self.COREDNS,
        )


@dataclass
class RealNode:
    netns: NetworkNamespace
    images: Sequence[Path] = ()  # docker-archives imported into containerd before the kubelet starts
    cgroups_made: list[Path] = field(default_factory=list)

    @property
    def identities(self) -> NodeIdentities:
        return NodeIdentities(self.netns.addressing.node_ip)

    # -- what the control plane must add ------------------------------------------------------
    def control_plane_flags(self, component: str, config: ClusterConfig) -> list[str]:
        if component == "kube-apiserver":
            # The plane has made its CA by now, and the API server is the first to need the node's certificates.
            for identity in self.identities.all():
                pki.issue(config.pki, identity)
            p = config.pki
            client = NodeIdentities.APISERVER_KUBELET_CLIENT.name
            proxy = NodeIdentities.FRONT_PROXY.name
            return [
                # Pods reach the API server as pods do everywhere, through the `kubernetes` Service (10.96.0.1:443,
                # the JobManager's Kubernetes HA): kube-proxy routes it to the advertised address, which must be
                # the node's (Endpoints refuse loopback) and served there. The namespace is the cluster's own, so
                # every address in it is still unreachable from outside; the plane's kubeconfigs keep 127.0.0.1.
                "--bind-address=0.0.0.0",
                f"--advertise-address={self.netns.addressing.node_ip}",
                "--endpoint-reconciler-type=lease",
                f"--kubelet-client-certificate={p / f'{client}.crt'}",
                f"--kubelet-client-key={p / f'{client}.key'}",
                f"--kubelet-certificate-authority={p / 'ca.crt'}",
                "--kubelet-preferred-address-types=InternalIP",
                # The aggregation layer, for metrics.k8s.io: the API server proxies to metrics-server as the
                # front proxy, which trusts the identity headers only from that certificate.
                f"--requestheader-client-ca-file={p / 'ca.crt'}",
                f"--requestheader-allowed-names={proxy}",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                f"--proxy-client-cert-file={p / f'{proxy}.crt'}",
                f"--proxy-client-key-file={p / f'{proxy}.key'}",
                "--enable-aggregator-routing=true",
            ]
        if component == "kube-controller-manager":
            # The HPA scales down after 5 minutes of low load by default; a test cannot wait that long.
            return ["--horizontal-pod-autoscaler-downscale-stabilization=30s"]
        return []

    # -- NodeProvider -------------------------------------------------------------------------
    def start(self, config: ClusterConfig, launch: Launch, kubectl: Tool) -> None:
        home = config.run_dir / "node"
        home.mkdir(parents=True, exist_ok=True)
        self._containerd(config, home, launch)
        import_into_containerd(list(self.images), self.ctr(home))
        self._kubelet(config, home, launch)
        self._await_registration(kubectl, config.logs / "kubelet.log")
        self._kube_proxy(config, home, launch)
        NetworkPolicyEngine(self.netns, NODE_NAME).start(config, home, launch, kubectl)
        self._coredns(config, home, launch, kubectl)
        self._metrics_server(config, home, launch, kubectl)

    @staticmethod
    def _await_registration(kubectl: Tool, kubelet_log: Path) -> None:
        """The Node object exists only once the kubelet has registered it, and `kubectl wait` for a condition
        of an object not there yet fails at once (NotFound): wait for it to be created, then to be Ready."""
        try:
            for condition in ("create", "condition=Ready"):
                kubectl.run("wait", f"--for={condition}", "--timeout=90s", f"node/{NODE_NAME}")
        except CommandError as error:
            raise ServiceError(f"{error}\nthe end of the kubelet's log:\n{log_tail(kubelet_log)}") from error

    def host_paths(self) -> tuple[Path, ...]:
        """The cgroups made for the kubelet's root (the namespace's mount points are netns.py's to remove)."""
        return tuple(self.cgroups_made)

    def cgroup_members(self) -> list[int]:
        """Every process in the node's cgroups: the pods' containers, which live in network and mount
        namespaces of their own, so only their cgroups say they belong to this node."""
        pids: set[int] = set()
        for root in self.cgroups_made:
            for directory, _, _ in os.walk(root):  # cgroups vanish while it walks: os.walk skips them
                with contextlib.suppress(OSError):
                    pids.update(int(pid) for pid in Path(directory, "cgroup.procs").read_text(encoding="utf-8").split())
        return sorted(pids)

    def ctr(self, home: Path) -> list[str]:
        """ctr against this node's containerd, run inside the namespace."""
        return self.netns.argv(["ctr", "--address", str(home / "containerd" / "containerd.sock")], home)

    # -- daemons ------------------------------------------------------------------------------
    def _service(
        self, config: ClusterConfig, home: Path, name: str, argv: list[str], env: dict | None = None
    ) -> Service:
        return Service(
            name=name,
            argv=self.netns.argv(argv, home),
            log_path=config.logs / f"{name}.log",
            env=env or {},
            cwd=home,
            stop_timeout=30,
        )

    def _containerd(self, config: ClusterConfig, home: Path, launch: Launch) -> None:
        root = home / "containerd"
        certs = root / "certs.d"
        for host in REGISTRY_HOSTS:
            (certs / host).mkdir(parents=True, exist_ok=True)
            (certs / host / "hosts.toml").write_text(
                f'server = "{CLOSED_PORT}"\n[host."{CLOSED_PORT}"]\n  capabilities = ["pull", "resolve"]\n',
                encoding="utf-8",
            )
        cni = config.tools_bin.parent / "cni" / "bin"
        conf = root / "config.toml"
        conf.write_text(
            f"""version = 2
root = "{root / "root"}"
state = "/run/containerd"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "{root / "containerd.sock"}"
[ttrpc]
  address = "{root / "containerd.sock.ttrpc"}"
[debug]
  level = "warn"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  # Pod sandboxes lack CAP_SYS_RESOURCE here: runc cannot lower oom_score_adj below its own.
  restrict_oom_score_adj = true
  enable_cdi = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{cni}"
    conf_dir = "{home / "cni"}"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{certs}"
""",
            encoding="utf-8",
        )
        self._write_cni_config(home)
        service = self._service(config, home, "containerd", ["containerd", "--config", str(conf)])
        socket = root / "containerd.sock"
        launch(service, lambda: socket.exists() and _succeeds([*self.ctr(home), "version"]), 60)

    def _write_cni_config(self, home: Path) -> None:
        a = self.netns.addressing
        conflist = {
            "cniVersion": "1.0.0",
            "name": "fraud-pods",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": "cni0",
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "dataDir": str(home / "ipam"),
                        "ranges": [[{"subnet": a.pod_cidr, "gateway": a.pod_gateway}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        }
        folder = home / "cni"
        folder.mkdir(parents=True, exist_ok=True)
        # containerd watches the folder: it must never see a half-written file.
        partial = folder / ".10-fraud.conflist.partial"
        partial.write_text(json.dumps(conflist, indent=1), encoding="utf-8")
        partial.replace(folder / "10-fraud.conflist")

    def _kubelet(self, config: ClusterConfig, home: Path, launch: Launch) -> None:
        a = self.netns.addressing
        for hierarchy in sorted(CGROUP_FS.iterdir()):
            if hierarchy.is_dir() and not hierarchy.is_symlink() and (hierarchy / "cgroup.procs").exists():
                cgroup = hierarchy / CGROUP_ROOT
                if not cgroup.exists():
                    cgroup.mkdir()
                    self.cgroups_made.append(cgroup)
        kubelet = self.identities.kubelet
        kubeconfig = pki.write_kubeconfig(home / "kubelet.kubeconfig", config.apiserver_url, config.pki, kubelet)
        settings = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "address": a.node_ip,
            "port": KUBELET_PORT,
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": 10248,
            "tlsCertFile": str(config.pki / f"{kubelet.name}.crt"),
            "tlsPrivateKeyFile": str(config.pki / f"{kubelet.name}.key"),
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": True},
                "x509": {"clientCAFile": str(config.pki / "ca.crt")},
            },
            "authorization": {"mode": "Webhook"},
            "containerRuntimeEndpoint": f"unix://{home / 'containerd' / 'containerd.sock'}",
            "cgroupDriver": "cgroupfs",
            "cgroupRoot": f"/{CGROUP_ROOT}",
            "clusterDNS": [a.dns_service_ip],
            "clusterDomain": a.cluster_domain,
            "resolvConf": "",
            "failSwapOn": False,
            "staticPodPath": "",
            # The disk is shared with everything else on the machine: evict on nothing but a full disk,
            # and never collect the images loaded by hand (there is no registry to pull them again).
            "evictionHard": {
                "memory.available": "100Mi",
                "nodefs.available": "1%",
                "imagefs.available": "1%",
                "nodefs.inodesFree": "1%",
            },
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "serializeImagePulls": False,
            "maxPods": 30,
            "rotateCertificates": False,
            "serverTLSBootstrap": False,
        }
        path = home / "kubelet.yaml"
        path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
        service = self._service(
            config,
            home,
            "kubelet",
            [
                config.binary("kubelet"),
                f"--config={path}",
                f"--kubeconfig={kubeconfig}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={a.node_ip}",
            ],
        )
        launch(service, lambda: http_ok("http://127.0.0.1:10248/healthz"), 90)

    def _kube_proxy(self, config: ClusterConfig, home: Path, launch: Launch) -> None:
        a = self.netns.addressing
        kubeconfig = pki.write_kubeconfig(
            home / "kube-proxy.kubeconfig", config.apiserver_url, config.pki, NodeIdentities.KUBE_PROXY
        )
        service = self._service(
            config,
            home,
            "kube-proxy",
            [
                config.binary("kube-proxy"),
                f"--kubeconfig={kubeconfig}",
                "--proxy-mode=iptables",
                f"--cluster-cidr={a.pod_cidr}",
                f"--hostname-override={NODE_NAME}",
                # It would raise nf_conntrack_max, which a network namespace may not write.
                "--conntrack-max-per-core=0",
                "--healthz-bind-address=127.0.0.1:10256",
                "--metrics-bind-address=127.0.0.1:10249",
            ],
        )
        launch(service, lambda: http_ok("http://127.0.0.1:10256/healthz"), 60)

    def _coredns(self, config: ClusterConfig, home: Path, launch: Launch, kubectl: Tool) -> None:
        a = self.netns.addressing
        kubeconfig = pki.write_kubeconfig(
            home / "coredns.kubeconfig", config.apiserver_url, config.pki, NodeIdentities.COREDNS
        )
        kubectl.run(
            "apply",
            "--server-side",
            "-f",
            "-",
            input=_yaml_list(
                _cluster_role(
                    "fraud:coredns",
                    [
                        {
                            "apiGroups": [""],
                            "resources": ["services", "pods", "namespaces"],
                            "verbs": ["list", "watch"],
                        },
                        {
                            "apiGroups": ["discovery.k8s.io"],
                            "resources": ["endpointslices"],
                            "verbs": ["list", "watch"],
                        },
                    ],
                ),
                _cluster_role_binding("fraud:coredns", "fraud:coredns", NodeIdentities.COREDNS.common_name),
                *_service_on_node(
                    "kube-dns",
                    a.node_ip,
                    a.dns_service_ip,
                    labels={"k8s-app": "kube-dns"},
                    ports=[("dns", "UDP", 53, 53), ("dns-tcp", "TCP", 53, 53)],
                ),
            ),
        )
        corefile = home / "Corefile"
        corefile.write_text(
            f""".:53 {{
    errors
    health {COREDNS_HEALTH}
    ready {COREDNS_READY}
    kubernetes {a.cluster_domain} in-addr.arpa ip6.arpa {{
        kubeconfig {kubeconfig} fraud-local
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 30
}}
""",
            encoding="utf-8",
        )
        service = self._service(config, home, "coredns", [config.binary("coredns"), "-conf", str(corefile)])
        launch(service, lambda: http_ok(f"http://{COREDNS_READY}/ready"), 60)

    def _metrics_server(self, config: ClusterConfig, home: Path, launch: Launch, kubectl: Tool) -> None:
        a = self.netns.addressing
        identity = self.identities.metrics_server
        user = identity.common_name
        kubeconfig = pki.write_kubeconfig(
            home / "metrics-server.kubeconfig", config.apiserver_url, config.pki, identity
        )
        ca_bundle = base64.b64encode((config.pki / "ca.crt").read_bytes()).decode()
        kubectl.run(
            "apply",
            "--server-side",
            "-f",
            "-",
            input=_yaml_list(
                _cluster_role(
                    "fraud:metrics-server",
                    [
                        {"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]},
                        {"apiGroups": [""], "resources": ["pods", "nodes"], "verbs": ["get", "list", "watch"]},
                    ],
                ),
                _cluster_role_binding("fraud:metrics-server", "fraud:metrics-server", user),
                # As an aggregated API server: delegate authentication and authorization, read the front proxy's CA.
                _cluster_role_binding("fraud:metrics-server:auth-delegator", "system:auth-delegator", user),
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "RoleBinding",
                    "metadata": {"name": "fraud:metrics-server:auth-reader", "namespace": "kube-system"},
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "Role",
                        "name": "extension-apiserver-authentication-reader",
                    },
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
                },
                *_service_on_node(
                    "metrics-server",
                    a.node_ip,
                    None,
                    labels={"k8s-app": "metrics-server"},
                    ports=[("https", "TCP", 443, METRICS_SERVER_PORT)],
                ),
                {
                    "apiVersion": "apiregistration.k8s.io/v1",
                    "kind": "APIService",
                    "metadata": {"name": "v1beta1.metrics.k8s.io"},
                    "spec": {
                        "group": "metrics.k8s.io",
                        "version": "v1beta1",
                        "groupPriorityMinimum": 100,
                        "versionPriority": 100,
                        "caBundle": ca_bundle,
                        "service": {"name": "metrics-server", "namespace": "kube-system", "port": 443},
                    },
                },
            ),
        )
        service = self._service(
            config,
            home,
            "metrics-server",
            [
                config.binary("metrics-server"),
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                f"--bind-address={a.node_ip}",
                f"--secure-port={METRICS_SERVER_PORT}",
                f"--tls-cert-file={config.pki / f'{identity.name}.crt'}",
                f"--tls-private-key-file={config.pki / f'{identity.name}.key'}",
                f"--kubelet-certificate-authority={config.pki / 'ca.crt'}",
                "--kubelet-preferred-address-types=InternalIP",
                "--metric-resolution=10s",
                "--kubelet-request-timeout=5s",
            ],
        )
        launch(service, lambda: _api_service_available(kubectl), 90)


def _succeeds(argv: list[str]) -> bool:
    return subprocess.run(argv, capture_output=True, check=False, timeout=10).returncode == 0


def _api_service_available(kubectl: Tool) -> bool:
    found = kubectl.run(
        "get",
        "apiservice",
        "v1beta1.metrics.k8s.io",
        "-o",
        "jsonpath={.status.conditions[?(@.type=='Available')].status}",
        check=False,
    )
    return found.stdout.strip() == "True"


def _yaml_list(*items: dict) -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": list(items)})


def _cluster_role(name: str, rules: list[dict]) -> dict:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": rules,
    }


def _cluster_role_binding(name: str, role: str, user: str) -> dict:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }


def _service_on_node(
    name: str, node_ip: str, cluster_ip: str | None, labels: dict[str, str], ports: list[tuple[str, str, int, int]]
) -> list[dict]:
    """A kube-system Service without a selector and the EndpointSlice that points it at a process on the node."""
    spec: dict = {
        "ports": [
            {"name": n, "protocol": proto, "port": port, "targetPort": target} for n, proto, port, target in ports
        ]
    }
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "kube-system", "labels": labels},
        "spec": spec,
    }
    endpoints = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{name}-node",
            "namespace": "kube-system",
            "labels": {"kubernetes.io/service-name": name},
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [node_ip], "conditions": {"ready": True}, "nodeName": NODE_NAME}],
        "ports": [{"name": n, "protocol": proto, "port": target} for n, proto, _, target in ports],
    }
    return [service, endpoints]
