"""The function declarations are the single list: the topics' targets, the packaging and the lookups agree with them."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from fraud_common.contract import TOPICS, TRANSACTION_RECORD, TRANSACTIONS_TOPIC, Ingress, topic
from fraud_functions.declarations import check_ingresses, declared, lookups
from fraud_functions.scoring import load_model
from fraud_functions.settings import FunctionSettings

REPO = Path(__file__).resolve().parents[3]


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


def test_every_function_takes_something():
    assert all(item.takes for item in declared())


def test_every_topic_the_runtime_reads_reaches_a_function_that_takes_its_records():
    functions = {item.typename: item for item in declared()}
    read = [item for item in TOPICS if item.ingress is not None]
    for declared_topic in read:
        assert declared_topic.ingress.record_type in functions[declared_topic.ingress.target].takes, declared_topic.name
    assert {t.name for item in declared() for t in item.topics()} == {t.name for t in read}


@pytest.mark.parametrize(
    "ingress, message",
    [
        (Ingress(TRANSACTION_RECORD, target="fraud/nobody"), "which no function declares"),
        (Ingress("fraud/Unheard", target="fraud/transaction-manager"), "which it does not take"),
    ],
)
def test_a_topic_whose_ingress_no_function_can_take_is_refused(ingress, message):
    topics = [replace(topic(TRANSACTIONS_TOPIC), ingress=ingress)]
    with pytest.raises(ValueError, match=message):
        check_ingresses(topics, declared())
