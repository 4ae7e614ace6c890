"""Renders the StateFun module spec (runtime/conf/module.yaml.tmpl) for one environment.

The template is the single source of the module spec; only addresses differ
between the local stack and Kubernetes, and they come from the environment:

    FUNCTIONS_ENDPOINT       URL the runtime posts to (default http://127.0.0.1:8000/statefun)
    KAFKA_BOOTSTRAP_SERVERS  Kafka bootstrap servers (default localhost:9092)
    KAFKA_CONSUMER_GROUP     consumer group of the ingresses (default fraud-statefun)
    STATEFUN_CALL_TIMEOUT    runtime's budget for one call, retries included (default 1min)
    ALERTS_DELIVERY          exactly-once (default) or at-least-once, for the `alerts` egress

Usage: python -m fraud_functions.module_spec [--template PATH] [--out PATH]

The template is read from a checkout of the repository (runtime/conf/); an
installed package without one needs --template (the Helm chart carries its own
copy, checked to be identical by tests/deploy).
"""

from __future__ import annotations

import argparse
import string
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from fraud_common.settings import SettingsError, env_str

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = REPO_ROOT / "runtime" / "conf" / "module.yaml.tmpl"


ALERTS_DELIVERY_CHOICES = ("exactly-once", "at-least-once")


def placeholders(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The value of every placeholder, from the environment; raises SettingsError for a bad one."""
    delivery = env_str("ALERTS_DELIVERY", "exactly-once", env)
    if delivery not in ALERTS_DELIVERY_CHOICES:
        raise SettingsError(f"ALERTS_DELIVERY={delivery!r} is not one of {', '.join(ALERTS_DELIVERY_CHOICES)}")
    return {
        "FUNCTIONS_ENDPOINT": env_str("FUNCTIONS_ENDPOINT", "http://127.0.0.1:8000/statefun", env),
        "KAFKA_BOOTSTRAP_SERVERS": env_str("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092", env),
        "KAFKA_CONSUMER_GROUP": env_str("KAFKA_CONSUMER_GROUP", "fraud-statefun", env),
        "STATEFUN_CALL_TIMEOUT": env_str("STATEFUN_CALL_TIMEOUT", "1min", env),
        "ALERTS_DELIVERY": delivery,
    }


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill every ${NAME}; a placeholder without a value is an error, never left in place."""
    try:
        return string.Template(template).substitute(values)
    except KeyError as err:
        raise ValueError(f"module spec placeholder {err} has no value") from None


def documents(rendered: str) -> list[dict[str, Any]]:
    """The spec's YAML documents (comments and empty documents dropped)."""
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    parser.add_argument("--out", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    if not args.template.is_file():
        parser.error(f"no module spec template at {args.template}: outside a checkout, give --template")
    rendered = render(args.template.read_text(encoding="utf-8"), placeholders())
    documents(rendered)  # fail here, not in the JVM, if the result is not YAML
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(rendered, encoding="utf-8")
    else:
        sys.stdout.write(rendered)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
