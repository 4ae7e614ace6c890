"""Certificates made fresh at every start with Debian's openssl: a throw-away CA and what it signs.

Keys are ECDSA P-256: quick to make, accepted by Kubernetes, the JVM's TLS and Python's ssl module alike.
The local control plane (fraud_dev.cluster.pki) and the local Kafka broker's TLS listener
(fraud_dev.stack.kafka_security) both make theirs here.
"""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

VALID_DAYS = 30
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


def openssl(*args: str) -> None:
    """Run openssl; PkiError with its stderr when it fails."""
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PkiError(f"openssl {' '.join(args[:2])} failed: {result.stderr.strip()}")


def new_key(path: Path) -> None:
    """A P-256 private key (PKCS#8 PEM), readable by its owner only."""
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path))
    path.chmod(0o600)


def make_ca(pki: Path, common_name: str = "fraud-cluster-ca") -> None:
    """ca.key and the self-signed ca.crt in `pki`."""
    pki.mkdir(parents=True, exist_ok=True)
    new_key(pki / "ca.key")
    openssl(
        "req",
        "-x509",
        "-new",
        "-key",
        str(pki / "ca.key"),
        "-subj",
        f"/CN={common_name}",
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
    new_key(key)
    openssl("req", "-new", "-key", str(key), "-subj", identity.subject, "-out", str(csr))
    usages = "serverAuth,clientAuth" if identity.serves else "clientAuth"
    lines = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature", f"extendedKeyUsage={usages}"]
    if identity.serves:
        lines.append("subjectAltName=" + ",".join(identity.serves))
    extensions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    openssl(
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
