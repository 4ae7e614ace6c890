"""Certificates and kubeconfigs, made fresh at every start with Debian's openssl.

One throw-away CA signs a certificate per identity; each component authenticates to the API
server with its own certificate (the CN is the user, the O the group), which is what makes
RBAC and the Node authorizer meaningful here. Keys are ECDSA P-256: quick to make, accepted
everywhere in Kubernetes.
"""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

VALID_DAYS = 30
# The first address of the Service range (--service-cluster-ip-range): the `kubernetes` Service.
SERVICE_CIDR = "10.96.0.0/16"
KUBERNETES_SERVICE_IP = "10.96.0.1"
LOOPBACK_NAMES = ("IP:127.0.0.1", "DNS:localhost")


class PkiError(RuntimeError):
    """openssl failed; the message carries its output."""


@dataclass(frozen=True)
class Identity:
    """Who a certificate speaks for, and where it may serve (subject alternative names)."""

    name: str
    common_name: str
    organization: str | None = None
    serves: tuple[str, ...] = ()

    @property
    def subject(self) -> str:
        return (f"/O={self.organization}" if self.organization else "") + f"/CN={self.common_name}"


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


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PkiError(f"openssl {' '.join(args[:2])} failed: {result.stderr.strip()}")


def _new_key(path: Path) -> None:
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path))
    path.chmod(0o600)


def make_ca(pki: Path) -> None:
    pki.mkdir(parents=True, exist_ok=True)
    _new_key(pki / "ca.key")
    _openssl(
        "req",
        "-x509",
        "-new",
        "-key",
        str(pki / "ca.key"),
        "-subj",
        "/CN=fraud-cluster-ca",
        "-days",
        str(VALID_DAYS),
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        str(pki / "ca.crt"),
    )


def issue(pki: Path, identity: Identity) -> None:
    """<name>.key and <name>.crt signed by the CA: a client certificate, and a server one if it serves."""
    key, csr, extensions = pki / f"{identity.name}.key", pki / f"{identity.name}.csr", pki / f"{identity.name}.ext"
    _new_key(key)
    _openssl("req", "-new", "-key", str(key), "-subj", identity.subject, "-out", str(csr))
    usages = "serverAuth,clientAuth" if identity.serves else "clientAuth"
    lines = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature", f"extendedKeyUsage={usages}"]
    if identity.serves:
        lines.append("subjectAltName=" + ",".join(identity.serves))
    extensions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _openssl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(pki / "ca.crt"),
        "-CAkey",
        str(pki / "ca.key"),
        "-set_serial",
        "0x" + secrets.token_hex(16),
        "-days",
        str(VALID_DAYS),
        "-extfile",
        str(extensions),
        "-out",
        str(pki / f"{identity.name}.crt"),
    )
    csr.unlink()
    extensions.unlink()


def make_service_account_keys(pki: Path) -> None:
    """The key pair the API server signs (and verifies) service-account tokens with."""
    _new_key(pki / "service-account.key")
    _openssl("pkey", "-in", str(pki / "service-account.key"), "-pubout", "-out", str(pki / "service-account.pub"))


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
