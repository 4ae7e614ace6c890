"""A throw-away copy of what `make generate` reads and writes, and a throw-away topic, for tests that edit them."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from fraud_common.contract import NAMESPACE, Ingress, Topic
from fraud_dev.paths import REPO_ROOT
from fraud_functions.declarations import Declared, declared

# Every folder the generator reads a source from or writes a file to (kustomize/ is written from the chart).
FOLDERS = ("runtime/conf", "observability", "docs", "charts/fraud-platform", "kustomize")


def copy_generator_tree(to: Path) -> Path:
    """`to`, holding a copy of the repository's FOLDERS; returns it as the root to generate in."""
    for folder in FOLDERS:
        shutil.copytree(REPO_ROOT / folder, to / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return to


# A topic the runtime would read, handed to an existing function: the hand edit to the contract.
READ_TOPIC = Topic(
    "audit-requests",
    key="account",
    value="`AuditRequest`: `{account}`",
    partitions=2,
    ingress=Ingress(f"{NAMESPACE}/AuditRequest", target=f"{NAMESPACE}/account"),
)


def taking(record_type: str, target: str) -> tuple[Declared, ...]:
    """The function declarations after the hand edit that makes `target` take `record_type`."""
    return tuple(
        replace(item, takes=(*item.takes, record_type)) if item.typename == target else item for item in declared()
    )
