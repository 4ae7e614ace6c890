"""The control plane's certificates and kubeconfigs, made fresh at every start (fraud_dev.pki).

One throw-away CA signs a certificate per identity; each component authenticates to the API
server with its own certificate (the CN is the user, the O the group), which is what makes
RBAC and the Node authorizer meaningful here.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from fraud_dev.pki import LOOPBACK_NAMES, Identity, issue, make_ca, new_key, openssl

# The first address of the Service range (--service-cluster-ip-range): the `kubernetes` Service.
SERVICE_CIDR = "10.96.0.0/16"
KUBERNETES_SERVICE_IP = "10.96.0.1"


ADMIN = Identity("admin", "fraud-cluster-admin", organization="system:masters")
APISERVER = Identity(
    "kube-apiserver",
    "kube-apiserver",
    serves=(
        *LOOPBACK_NAMES,
        f"IP:{KUBERNETES_SERVICE_IP}",
        "DNS:kubernetes",
        "DNS:kubernetes.default",
        "DNS:kubernetes.default.svc",
        "DNS:kubernetes.default.svc.cluster.local",
    ),
)
CONTROLLER_MANAGER = Identity("kube-controller-manager", "system:kube-controller-manager", serves=LOOPBACK_NAMES)
SCHEDULER = Identity("kube-scheduler", "system:kube-scheduler", serves=LOOPBACK_NAMES)
# kwok stands in for every fake node's kubelet and the pods on them, so it needs more than one
# node's credentials (system:node:<name> would confine it to one node under the Node authorizer).
KWOK = Identity("kwok", "kwok-controller", organization="system:masters", serves=LOOPBACK_NAMES)
IDENTITIES = (ADMIN, APISERVER, CONTROLLER_MANAGER, SCHEDULER, KWOK)


def make_service_account_keys(pki: Path) -> None:
    """The key pair the API server signs (and verifies) service-account tokens with."""
    new_key(pki / "service-account.key")
    openssl("pkey", "-in", str(pki / "service-account.key"), "-pubout", "-out", str(pki / "service-account.pub"))


def make_all(pki: Path) -> None:
    make_ca(pki)
    for identity in IDENTITIES:
        issue(pki, identity)
    make_service_account_keys(pki)


def write_kubeconfig(path: Path, server: str, pki: Path, identity: Identity) -> Path:
    """A kubeconfig for `identity` against `server`, referring to the certificate files by absolute path."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "fraud-local", "cluster": {"server": server, "certificate-authority": str(pki / "ca.crt")}}
        ],
        "users": [
            {
                "name": identity.common_name,
                "user": {
                    "client-certificate": str(pki / f"{identity.name}.crt"),
                    "client-key": str(pki / f"{identity.name}.key"),
                },
            }
        ],
        "contexts": [{"name": "fraud-local", "context": {"cluster": "fraud-local", "user": identity.common_name}}],
        "current-context": "fraud-local",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    path.chmod(0o600)
    return path
