"""The control plane's processes and their flags: everything bound to 127.0.0.1, every file in the run directory.

Single instances, so no leader election (it would only delay the start by a lease period).
"""

from __future__ import annotations

from pathlib import Path

from fraud_dev.cluster.config import ClusterConfig
from fraud_dev.cluster.pki import CONTROLLER_MANAGER, SCHEDULER, SERVICE_CIDR, Identity
from fraud_dev.process import Service

LOOPBACK = "127.0.0.1"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"


def component_kubeconfig(config: ClusterConfig, identity: Identity) -> Path:
    return config.run_dir / "kubeconfigs" / f"{identity.name}.kubeconfig"


def _service(
    config: ClusterConfig, name: str, argv: list[str], stop_timeout: float = 15, env: dict[str, str] | None = None
) -> Service:
    return Service(
        name=name,
        argv=argv,
        log_path=config.logs / f"{name}.log",
        env=env or {},
        cwd=config.run_dir,
        stop_timeout=stop_timeout,
    )


def etcd(config: ClusterConfig) -> Service:
    client = f"http://{LOOPBACK}:{config.ports.etcd}"
    peer = f"http://{LOOPBACK}:{config.ports.etcd_peer}"
    return _service(
        config,
        "etcd",
        [
            config.binary("etcd"),
            "--name=fraud-local",
            f"--data-dir={config.run_dir / 'etcd'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=fraud-local={peer}",
            "--log-level=warn",
        ],
    )


def kube_apiserver(config: ClusterConfig) -> Service:
    pki = config.pki
    return _service(
        config,
        "kube-apiserver",
        [
            config.binary("kube-apiserver"),
            f"--etcd-servers=http://{LOOPBACK}:{config.ports.etcd}",
            f"--bind-address={LOOPBACK}",
            f"--advertise-address={LOOPBACK}",
            f"--secure-port={config.ports.apiserver}",
            # Defaults written to /var/run/kubernetes when unset: keep them in the run directory.
            f"--cert-dir={config.run_dir / 'kube-apiserver'}",
            f"--tls-cert-file={pki / 'kube-apiserver.crt'}",
            f"--tls-private-key-file={pki / 'kube-apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction,PodSecurity",
            # Privileged pods are allowed by the server so that Pod Security admission is what refuses them
            # in a restricted namespace (a real node's system pods will need them too).
            "--allow-privileged=true",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-key-file={pki / 'service-account.pub'}",
            f"--service-account-signing-key-file={pki / 'service-account.key'}",
            # The `kubernetes` Service's endpoint would be the advertise address, and Endpoints validation
            # refuses loopback ones: with nothing in a pod to call the API yet, publish none (the real-node
            # step advertises the node's address inside its network namespace instead).
            "--endpoint-reconciler-type=none",
            "--profiling=false",
        ],
        stop_timeout=60,
    )  # it takes more than 10 s to exit after SIGTERM


def _secure_serving(config: ClusterConfig, identity: Identity, port: int) -> list[str]:
    kubeconfig = component_kubeconfig(config, identity)
    return [
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        f"--bind-address={LOOPBACK}",
        f"--secure-port={port}",
        f"--tls-cert-file={config.pki / f'{identity.name}.crt'}",
        f"--tls-private-key-file={config.pki / f'{identity.name}.key'}",
        "--leader-elect=false",
    ]


def kube_controller_manager(config: ClusterConfig) -> Service:
    pki = config.pki
    return _service(
        config,
        "kube-controller-manager",
        [
            config.binary("kube-controller-manager"),
            *_secure_serving(config, CONTROLLER_MANAGER, config.ports.controller_manager),
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--root-ca-file={pki / 'ca.crt'}",
            f"--service-account-private-key-file={pki / 'service-account.key'}",
            "--use-service-account-credentials=true",
            f"--cluster-signing-cert-file={pki / 'ca.crt'}",
            f"--cluster-signing-key-file={pki / 'ca.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            # The HPA controller looks at each HPA every 15 s by default; a chart's Deployment below its HPA's
            # minReplicas would wait that long to be raised. Every 2 s keeps the chart's tests short.
            "--horizontal-pod-autoscaler-sync-period=2s",
        ],
    )


def kube_scheduler(config: ClusterConfig) -> Service:
    return _service(
        config,
        "kube-scheduler",
        [
            config.binary("kube-scheduler"),
            *_secure_serving(config, SCHEDULER, config.ports.scheduler),
        ],
    )
