"""Renders the StateFun module spec (runtime/conf/module.yaml.tmpl) for one environment on this machine.

The template is generated (`make generate`, fraud_dev.generate.module_spec) from the topics of
`fraud_common.contract` and the function declarations; only addresses and a few choices differ between
the local stack and Kubernetes, and they are the placeholders below, filled from the environment. On
Kubernetes the chart fills them itself from its values (the deploy suite checks that both agree).

Usage: python -m fraud_dev.module_spec [--out PATH]
"""

from __future__ import annotations

import argparse
import string
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

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


def placeholder_names() -> tuple[str, ...]:
    """Every placeholder the template may use."""
    return tuple(declared.variable for _, declared in declared_settings(ModuleSpecSettings))


def placeholders(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The value of every placeholder, from the environment; raises SettingsError for a bad one."""
    settings = read_settings(ModuleSpecSettings, env)
    return {declared.variable: getattr(settings, name) for name, declared in declared_settings(ModuleSpecSettings)}


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
