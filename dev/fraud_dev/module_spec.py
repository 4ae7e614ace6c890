"""Renders the StateFun module spec (runtime/conf/module.yaml.tmpl) for one environment on this machine.

The template is generated (`make generate`, fraud_dev.generate.module_spec) from the topics of
`fraud_common.contract` and the function declarations; only addresses, a few choices and how the runtime
authenticates to Kafka differ between the local stack and Kubernetes, and they are the placeholders below,
filled from the environment. On Kubernetes the chart fills them itself from its values (the deploy suite
checks that both agree).

KAFKA_CLIENT_PROPERTIES is computed: the Kafka client properties of every ingress and egress for the
runtime's KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* and KAFKA_SSL_* settings (fraud_common.kafka_security), the
entries of a YAML flow sequence. Credentials go in by reference only: `${dir:<folder>:<file>}` is resolved by
Kafka's DirectoryConfigProvider when a client starts (a Kubernetes Secret mounted as a folder, or the local
stack's password file), so the spec, a ConfigMap on Kubernetes, holds no secret.

Usage: python -m fraud_dev.module_spec [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import string
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fraud_common.kafka_security import KafkaSecurity
from fraud_common.settings import declared_settings, read_settings, setting
from fraud_dev.paths import REPO_ROOT

TEMPLATE = REPO_ROOT / "runtime" / "conf" / "module.yaml.tmpl"


@dataclass(frozen=True)
class ModuleSpecSettings:
    """The template's placeholders: each field's variable is a `${NAME}` in it."""

    functions_endpoint: str = setting(
        "FUNCTIONS_ENDPOINT", "http://127.0.0.1:8000/statefun", "URL the runtime posts to"
    )
    kafka_bootstrap_servers: str = setting(
        "KAFKA_BOOTSTRAP_SERVERS", "localhost:9092", "Kafka for the ingresses and egresses"
    )
    kafka_consumer_group: str = setting("KAFKA_CONSUMER_GROUP", "fraud-statefun", "consumer group of the ingresses")
    statefun_call_timeout: str = setting(
        "STATEFUN_CALL_TIMEOUT",
        "1min",
        "the runtime's budget for one function call, retries included (must exceed the merchant lookup's worst "
        "case, MERCHANT_MAX_ATTEMPTS x MERCHANT_TIMEOUT_SECONDS + backoffs)",
    )
    alerts_delivery: str = setting(
        "ALERTS_DELIVERY",
        "exactly-once",
        "`at-least-once` writes `alerts` without Kafka transactions, for consumers that cannot read them "
        "(a restart can repeat an alert)",
        choices=("exactly-once", "at-least-once"),
    )


CLIENT_PROPERTIES = "KAFKA_CLIENT_PROPERTIES"
CONFIG_PROVIDER = "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
LOGIN_MODULES = {
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
}


def file_reference(path: Path) -> str:
    """What Kafka's DirectoryConfigProvider replaces with the content of `path` when the client starts."""
    return f"${{dir:{path.parent}:{path.name}}}"


def client_properties(security: KafkaSecurity) -> list[tuple[str, str]]:
    """The runtime's Kafka client properties for these settings, in order; files by reference, never content."""
    properties = [("security.protocol", security.protocol)]
    if security.sasl or security.ssl_certificate_file is not None:
        properties += [("config.providers", "dir"), ("config.providers.dir.class", CONFIG_PROVIDER)]
    if security.sasl:
        assert security.sasl_password_file is not None  # KafkaSecurity.from_env holds it
        user = security.sasl_username or file_reference(Path(str(security.sasl_username_file)))
        login = LOGIN_MODULES[security.sasl_mechanism]
        password = file_reference(security.sasl_password_file)
        properties += [
            ("sasl.mechanism", security.sasl_mechanism),
            ("sasl.jaas.config", f'{login} required username="{user}" password="{password}";'),
        ]
    if security.ssl_ca_file is not None:
        properties += [("ssl.truststore.type", "PEM"), ("ssl.truststore.location", str(security.ssl_ca_file))]
    if security.ssl_certificate_file is not None and security.ssl_key_file is not None:
        properties += [
            ("ssl.keystore.type", "PEM"),
            ("ssl.keystore.certificate.chain", file_reference(security.ssl_certificate_file)),
            ("ssl.keystore.key", file_reference(security.ssl_key_file)),
        ]
    return properties


def flow_entries(properties: list[tuple[str, str]]) -> str:
    """The properties as entries of a YAML flow sequence: one compact JSON object each (what the chart's
    toJson writes too)."""
    return ", ".join(json.dumps({key: value}, separators=(",", ":")) for key, value in properties)


def placeholder_names() -> tuple[str, ...]:
    """Every placeholder the template may use."""
    return (*(declared.variable for _, declared in declared_settings(ModuleSpecSettings)), CLIENT_PROPERTIES)


def placeholders(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The value of every placeholder, from the environment; raises SettingsError for a bad one."""
    settings = read_settings(ModuleSpecSettings, env)
    values = {declared.variable: getattr(settings, name) for name, declared in declared_settings(ModuleSpecSettings)}
    return {**values, CLIENT_PROPERTIES: flow_entries(client_properties(KafkaSecurity.from_env(env)))}


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill every ${NAME}; a placeholder without a value is an error, never left in place."""
    try:
        return string.Template(template).substitute(values)
    except KeyError as err:
        raise ValueError(f"module spec placeholder {err} has no value") from None


def rendered(env: Mapping[str, str] | None = None, template: Path = TEMPLATE) -> str:
    """The spec for `env` (default: the process environment), checked to be YAML."""
    text = render(template.read_text(encoding="utf-8"), placeholders(env))
    documents(text)  # fail here, not in the JVM, if the result is not YAML
    return text


def documents(text: str) -> list[dict[str, Any]]:
    """The spec's YAML documents (comments and empty documents dropped)."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    text = rendered()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
