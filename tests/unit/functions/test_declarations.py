"""The function declarations are the single list: the docs' table, the packaging and the lookups agree with them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from fraud_functions.declarations import declared, lookups, markdown_table
from fraud_functions.scoring import load_model
from fraud_functions.settings import FunctionSettings

REPO = Path(__file__).resolve().parents[3]


def test_the_docs_function_table_is_the_generated_one():
    architecture = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert markdown_table() in architecture, (
        "docs/architecture.md's function table is stale: paste `python -m fraud_functions.declarations`"
    )


def test_every_declared_module_ships_in_the_package():
    packages = set(tomllib.loads((REPO / "functions" / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    source = REPO / "functions" / "fraud_functions"
    folders = {
        ".".join(("fraud_functions", *path.parent.relative_to(source).parts)).rstrip(".")
        for path in source.rglob("__init__.py")
    }
    assert folders <= packages, f"not packaged: {folders - packages}"


def test_lookup_names_are_unique_and_the_shipped_model_reads_only_provided_values():
    names = [lookup.name for _, lookup in lookups()]
    assert len(names) == len(set(names))
    provided = {source for _, lookup in lookups() for source in lookup.sources()} | {"transaction.amount"}
    settings = FunctionSettings.from_env({})
    assert set(load_model(settings.model_strategy, settings.model_path).sources()) <= provided


def test_every_function_takes_something_and_at_most_one_reads_each_topic():
    topics = [item.ingress.topic for item in declared() if item.ingress]
    assert len(topics) == len(set(topics))
    assert all(item.takes for item in declared())
