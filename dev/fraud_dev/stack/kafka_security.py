"""The local broker secured (KAFKA_SECURITY=sasl_ssl): a SASL_SSL listener, SCRAM users, the declared ACLs.

- TLS: a throw-away CA and the broker's certificate (localhost, 127.0.0.1), made at every start (fraud_dev.pki)
  in `<run>/kafka/security/tls`; every client trusts `ca.crt` and checks the broker's name.
- Users: SCRAM-SHA-512, one per component of `fraud_common.contract.KAFKA_ACCESS` and the workshop's super user
  `fraud-admin`, which creates the topics and the ACLs and with which the tests read every topic. KRaft keeps
  SCRAM credentials in its metadata log, written when the log directory is formatted, so the passwords are made
  then, kept in `<run>/kafka/security/users/<user>/password` (0600), and live as long as the broker's data.
- ACLs: each component's declared grants, created at every start (the StandardAuthorizer allows nothing without
  one). The broker authenticates to its own controller listener with its certificate (mutual TLS) and to its
  SASL_SSL listener as `fraud-admin`: both are super users.

A broker formatted in one mode refuses to start in the other (its users are in its metadata log, or not): the
message says to `make clean` or use another STACK_RUN_DIR.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaClient
from aiokafka.protocol.admin import CreateAclsRequest

from fraud_common.contract import KAFKA_ACCESS, Acl, KafkaAccess
from fraud_common.kafka_security import KafkaConnection, KafkaSecurity
from fraud_common.settings import Setting, declared_settings
from fraud_dev import module_spec, pki
from fraud_dev.prerequisites import PrerequisiteError
from fraud_simulator.settings import SimulatorSettings

PLAINTEXT, SASL_SSL = "plaintext", "sasl_ssl"
MODES = (PLAINTEXT, SASL_SSL)
MECHANISM = "SCRAM-SHA-512"
ADMIN = "fraud-admin"
BROKER = pki.Identity("broker", "fraud-kafka-broker", serves=pki.LOOPBACK_NAMES)

# Kafka's protocol codes (org.apache.kafka.common.acl.AclOperation, resource.ResourceType, PatternType).
RESOURCE_TYPES = {"topic": 2, "group": 3, "cluster": 4, "transactionalId": 5}
PATTERN_TYPES = {"literal": 3, "prefix": 4}
OPERATIONS = {"Read": 3, "Write": 4, "Describe": 8, "IdempotentWrite": 12}
ALLOW = 3
ANY_HOST = "*"


class BrokerModeMismatch(PrerequisiteError):
    """The broker's data was formatted for the other security mode."""


def users() -> tuple[str, ...]:
    """Every SCRAM user of the secured broker: the super user, then one per component."""
    return (ADMIN, *(entry.component for entry in KAFKA_ACCESS))


def group_setting(variable: str) -> Setting:
    """The declaration of a consumer group setting: the runtime's module spec's or the simulator's."""
    for settings in (module_spec.ModuleSpecSettings, SimulatorSettings):
        for _, declared in declared_settings(settings):
            if declared.variable == variable:
                return declared
    raise LookupError(f"no setting {variable} declares a consumer group")


def group_of(entry: KafkaAccess, env: Mapping[str, str]) -> str | None:
    """The consumer group the component uses here: its group setting read from `env`."""
    return None if entry.group_setting is None else str(group_setting(entry.group_setting).read(env))


@dataclass(frozen=True)
class BrokerSecurity:
    """The secured broker's files under `directory` (`<run>/kafka/security`) and what clients need to connect."""

    directory: Path

    @property
    def tls(self) -> Path:
        return self.directory / "tls"

    @property
    def ca_file(self) -> Path:
        return self.tls / "ca.crt"

    def password_file(self, user: str) -> Path:
        return self.directory / "users" / user / "password"

    def make_certificates(self) -> None:
        """A new CA and broker certificate; `broker.pem` is the key and certificate Kafka's PEM keystore reads."""
        pki.make_ca(self.tls, common_name="fraud-kafka-ca")
        pki.issue(self.tls, BROKER)
        keystore = self.tls / "broker.pem"
        keystore.write_text(
            (self.tls / "broker.key").read_text(encoding="utf-8")
            + (self.tls / "broker.crt").read_text(encoding="utf-8"),
            encoding="utf-8",
        )
        keystore.chmod(0o600)

    def make_passwords(self) -> None:
        """A random password per user, for a broker about to be formatted."""
        for user in users():
            path = self.password_file(user)
            path.parent.mkdir(parents=True, exist_ok=True)
            # No newline: the runtime's Kafka client reads the whole file as the password (as from a Secret).
            path.write_text(secrets.token_urlsafe(24), encoding="utf-8")
            path.chmod(0o600)

    def password(self, user: str) -> str:
        return self.password_file(user).read_text(encoding="utf-8")

    def format_arguments(self) -> list[str]:
        """StorageTool's arguments that put every user's SCRAM credential into the new metadata log."""
        return [
            argument
            for user in users()
            for argument in ("--add-scram", f"{MECHANISM}=[name={user},password={self.password(user)}]")
        ]

    def server_properties(self, host: str, port: int, controller_port: int) -> list[str]:
        """The broker's listeners, TLS, SCRAM and authorizer keys (appended to server.properties; last key wins)."""
        admin = f'username="{ADMIN}" password="{self.password(ADMIN)}"'
        return [
            f"listeners=SASL_SSL://{host}:{port},CONTROLLER://localhost:{controller_port}",
            f"advertised.listeners=SASL_SSL://{host}:{port}",
            "listener.security.protocol.map=CONTROLLER:SSL,SASL_SSL:SASL_SSL",
            "inter.broker.listener.name=SASL_SSL",
            f"sasl.enabled.mechanisms={MECHANISM}",
            f"sasl.mechanism.inter.broker.protocol={MECHANISM}",
            f"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
            f"org.apache.kafka.common.security.scram.ScramLoginModule required {admin};",
            "ssl.keystore.type=PEM",
            f"ssl.keystore.location={self.tls / 'broker.pem'}",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={self.ca_file}",
            "listener.name.controller.ssl.client.auth=required",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            f"super.users=User:{ADMIN};User:CN={BROKER.common_name}",
            "allow.everyone.if.no.acl.found=false",
        ]

    def client(self, user: str) -> KafkaSecurity:
        """How `user` connects: SASL_SSL, SCRAM, its password file, the stack's CA."""
        return KafkaSecurity(
            protocol="SASL_SSL",
            sasl_mechanism=MECHANISM,
            sasl_username=user,
            sasl_password_file=self.password_file(user),
            ssl_ca_file=self.ca_file,
        )

    def client_env(self, user: str) -> dict[str, str]:
        """The same, as the environment variables KafkaSecurity and the module spec read."""
        return {
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": MECHANISM,
            "KAFKA_SASL_USERNAME": user,
            "KAFKA_SASL_PASSWORD_FILE": str(self.password_file(user)),
            "KAFKA_SSL_CA_FILE": str(self.ca_file),
        }


async def create_acls(connection: KafkaConnection, grants: Mapping[str, tuple[Acl, ...]]) -> int:
    """Allow every grant to its user (`User:<name>`); creating an ACL that exists changes nothing. Returns how many."""
    client = AIOKafkaClient(**connection.options())
    await client.bootstrap()
    try:
        node = client.get_random_node()
        count = 0
        for user, acls in grants.items():
            for acl in acls:
                for operation in acl.operations:
                    request = CreateAclsRequest(
                        RESOURCE_TYPES[acl.resource_type],
                        acl.name,
                        PATTERN_TYPES[acl.pattern],
                        f"User:{user}",
                        ANY_HOST,
                        OPERATIONS[operation],
                        ALLOW,
                    )
                    response = await client.send(node, request)
                    for error_code, error_message in response.creation_responses:
                        if error_code != 0:
                            raise RuntimeError(f"the broker refused an ACL for {user}: {error_message} ({error_code})")
                    count += 1
        return count
    finally:
        await client.close()


def declared_grants(env: Mapping[str, str]) -> dict[str, tuple[Acl, ...]]:
    """Each component's ACLs, with its consumer group as configured in `env`."""
    return {entry.component: entry.acls(group_of(entry, env)) for entry in KAFKA_ACCESS}


def apply_declared_acls(connection: KafkaConnection, env: Mapping[str, str]) -> int:
    return asyncio.run(create_acls(connection, declared_grants(env)))
