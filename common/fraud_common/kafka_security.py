"""How a Python Kafka client of the platform connects: which brokers, which protocol, which credentials.

Every client (the simulator, the replay tool, the workshop's helpers) takes a `KafkaConnection`, so a secured
Kafka needs no code path of its own. The settings name files, never secrets: a password or key lives in a
file (on Kubernetes a mounted Secret), is read when a client is made (a rotated Secret reaches the next
client), and never appears in a setting's value, an error message or a log line. What the JVM runtime gets
from the same settings is fraud_dev.module_spec's business (its Kafka properties refer to the same files).
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka.helpers import create_ssl_context

from fraud_common.settings import SettingsError, read_settings, setting

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
# A user name goes into a JAAS line between double quotes (the runtime's sasl.jaas.config): no quotes,
# backslashes or spaces. Kafka, Strimzi, MSK and Confluent Cloud names all fit.
USERNAME = re.compile(r"^[A-Za-z0-9._@:+=/-]{1,256}$")


class KafkaCredentialsError(SettingsError):
    """A credential file named by a setting cannot be used; the message names the variable and the file only."""


@dataclass(frozen=True)
class KafkaSecurity:
    """The protocol and credentials of one client, from the environment; the default is PLAINTEXT."""

    protocol: str = setting(
        "KAFKA_SECURITY_PROTOCOL",
        "PLAINTEXT",
        "how the client talks to Kafka (`SASL_*`: authenticated by KAFKA_SASL_*; `*SSL`: over TLS)",
        choices=PROTOCOLS,
    )
    sasl_mechanism: str = setting(
        "KAFKA_SASL_MECHANISM", "SCRAM-SHA-512", "the SASL mechanism (`SASL_*` protocols)", choices=SASL_MECHANISMS
    )
    sasl_username: str | None = setting(
        "KAFKA_SASL_USERNAME",
        None,
        "the SASL user (or KAFKA_SASL_USERNAME_FILE, a file holding it)",
        shown_default="unset",
    )
    sasl_username_file: Path | None = setting(
        "KAFKA_SASL_USERNAME_FILE",
        None,
        "a file holding the SASL user, e.g. a Secret's key (a Confluent Cloud API key)",
        kind=Path,
        shown_default="unset",
    )
    sasl_password_file: Path | None = setting(
        "KAFKA_SASL_PASSWORD_FILE",
        None,
        "a file holding the SASL password (`SASL_*` protocols)",
        kind=Path,
        shown_default="unset",
    )
    ssl_ca_file: Path | None = setting(
        "KAFKA_SSL_CA_FILE",
        None,
        "PEM certificates the brokers' certificate must chain to (`*SSL`)",
        kind=Path,
        shown_default="the system's trusted CAs",
    )
    ssl_certificate_file: Path | None = setting(
        "KAFKA_SSL_CERTIFICATE_FILE",
        None,
        "the client's own PEM certificate, for mutual TLS",
        kind=Path,
        shown_default="unset",
    )
    ssl_key_file: Path | None = setting(
        "KAFKA_SSL_KEY_FILE",
        None,
        "the private key (PEM, unencrypted) of KAFKA_SSL_CERTIFICATE_FILE",
        kind=Path,
        shown_default="unset",
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KafkaSecurity:
        """The settings of `env` (default: the process environment), checked; SettingsError names the variables."""
        security = read_settings(cls, env)
        problems = security.problems()
        if problems:
            raise SettingsError("; ".join(problems))
        return security

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.protocol.endswith("SSL")

    def problems(self) -> list[str]:
        """What makes these settings unusable together, naming the variables (files are read later)."""
        problems = []
        if self.sasl:
            if (self.sasl_username is None) == (self.sasl_username_file is None):
                problems.append(f"{self.protocol} needs exactly one of KAFKA_SASL_USERNAME, KAFKA_SASL_USERNAME_FILE")
            if self.sasl_username is not None and not USERNAME.fullmatch(self.sasl_username):
                problems.append("KAFKA_SASL_USERNAME has a character a JAAS line cannot carry (quote, space, ...)")
            if self.sasl_password_file is None:
                problems.append(f"{self.protocol} needs KAFKA_SASL_PASSWORD_FILE")
        else:
            given = [name for name, value in self._sasl_settings().items() if value is not None]
            problems += [f"{name} is set, but {self.protocol} does not authenticate with SASL" for name in given]
        if (self.ssl_certificate_file is None) != (self.ssl_key_file is None):
            problems.append("mutual TLS needs both KAFKA_SSL_CERTIFICATE_FILE and KAFKA_SSL_KEY_FILE")
        if not self.tls:
            given = [name for name, value in self._tls_settings().items() if value is not None]
            problems += [f"{name} is set, but {self.protocol} does not use TLS" for name in given]
        return problems

    def _sasl_settings(self) -> dict[str, object]:
        return {
            "KAFKA_SASL_USERNAME": self.sasl_username,
            "KAFKA_SASL_USERNAME_FILE": self.sasl_username_file,
            "KAFKA_SASL_PASSWORD_FILE": self.sasl_password_file,
        }

    def _tls_settings(self) -> dict[str, object]:
        return {
            "KAFKA_SSL_CA_FILE": self.ssl_ca_file,
            "KAFKA_SSL_CERTIFICATE_FILE": self.ssl_certificate_file,
            "KAFKA_SSL_KEY_FILE": self.ssl_key_file,
        }

    def username(self) -> str | None:
        """The SASL user: given, or read from its file now."""
        if self.sasl_username_file is not None:
            return _secret(self.sasl_username_file, "KAFKA_SASL_USERNAME_FILE")
        return self.sasl_username

    def describe(self) -> str:
        """Protocol, mechanism and user for messages (never the password or a key)."""
        if not self.sasl:
            return self.protocol
        who = self.sasl_username or f"the user in {self.sasl_username_file}"
        return f"{self.protocol}, {self.sasl_mechanism} as {who}"

    def client_options(self) -> dict[str, Any]:
        """aiokafka's keyword arguments for these settings, credential files read now."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.tls:
            options["ssl_context"] = self._ssl_context()
        if self.sasl:
            assert self.sasl_password_file is not None  # problems() holds it
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.username()
            options["sasl_plain_password"] = _secret(self.sasl_password_file, "KAFKA_SASL_PASSWORD_FILE")
        return options

    def _ssl_context(self) -> ssl.SSLContext:
        for variable, path in self._tls_settings().items():
            if path is not None:
                _readable(Path(str(path)), variable)
        try:
            context: ssl.SSLContext = create_ssl_context(
                cafile=self.ssl_ca_file, certfile=self.ssl_certificate_file, keyfile=self.ssl_key_file
            )
        except (ssl.SSLError, ValueError) as err:
            raise KafkaCredentialsError(
                f"the TLS files (KAFKA_SSL_CA_FILE {self.ssl_ca_file}, KAFKA_SSL_CERTIFICATE_FILE "
                f"{self.ssl_certificate_file}, KAFKA_SSL_KEY_FILE {self.ssl_key_file}) are not usable PEM: "
                f"{type(err).__name__} {getattr(err, 'reason', None) or ''}".rstrip()
            ) from None
        return context


def _readable(path: Path, variable: str) -> None:
    if not path.is_file():
        raise KafkaCredentialsError(f"{variable}: {path} is not a readable file")


def _secret(path: Path, variable: str) -> str:
    """A credential file's whole content; errors name the file, never the content.

    A trailing newline is refused rather than dropped: the runtime's Kafka client reads the same file whole
    (its config provider), so dropping it here would make the simulator work where the runtime cannot.
    """
    try:
        value = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise KafkaCredentialsError(f"{variable}: cannot read {path} ({type(err).__name__})") from None
    if not value:
        raise KafkaCredentialsError(f"{variable}: {path} is empty")
    if value.strip() != value:
        raise KafkaCredentialsError(
            f"{variable}: {path} starts or ends with whitespace (a newline?), which the runtime's Kafka client "
            "would take as part of it: write the Secret without one (kubectl create secret --from-literal)"
        )
    return value


@dataclass(frozen=True)
class KafkaConnection:
    """Where a client connects and how: the bootstrap servers and the security settings."""

    bootstrap_servers: str
    security: KafkaSecurity = field(default_factory=KafkaSecurity)

    @classmethod
    def from_env(cls, bootstrap_servers: str, env: Mapping[str, str] | None = None) -> KafkaConnection:
        return cls(bootstrap_servers, KafkaSecurity.from_env(env))

    def options(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""
        return {"bootstrap_servers": self.bootstrap_servers, **self.security.client_options()}

    def describe(self) -> str:
        return f"{self.bootstrap_servers} ({self.security.describe()})"
