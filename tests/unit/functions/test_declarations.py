"""The declarations are the single list: the topics' targets, the packaging, the features and their keys agree."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from fraud_common.contract import TOPICS, TRANSACTION_RECORD, TRANSACTIONS_TOPIC, Ingress, topic
from fraud_functions.declarations import ACCOUNT, KEYS, Key, check_ingresses, declared, features, key_functions, keys
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


def test_feature_names_are_unique_and_the_shipped_model_reads_only_provided_values():
    names = [item.name for item in features()]
    assert len(names) == len(set(names))
    provided = {source for item in features() for source in item.sources()} | {"transaction.amount"}
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


def test_one_function_per_key_serves_every_feature_on_it():
    functions = {item.typename: item for item in declared()}
    assert [key.typename for key in keys()] == ["fraud/account", "fraud/merchant"]
    settings = FunctionSettings.from_env({})
    for key in keys():
        on_key = [item for item in features() if item.key == key]
        served = functions[key.typename]
        assert {spec.name for spec in served.state(settings)} == {
            spec.name for item in on_key for spec in item.state(settings)
        }
        assert set(served.takes) >= {typename for item in on_key for typename in item.takes}


def test_features_of_one_key_may_not_share_a_state_name_or_a_message_type():
    (count,) = [item for item in features() if item.name == "fraud_count"]
    clash = replace(count, name="fraud_count_again")
    (function,) = key_functions([count, replace(clash, takes=())])
    with pytest.raises(ValueError, match="state of the same name"):
        function.state(FunctionSettings.from_env({}))
    with pytest.raises(ValueError, match="the same message type"):
        key_functions([count, replace(clash, state=lambda settings: [])])


def test_a_feature_on_a_key_the_chain_does_not_travel_is_refused():
    (count,) = [item for item in features() if item.name == "fraud_count"]
    with pytest.raises(ValueError, match="not in KEYS"):
        key_functions([replace(count, key=Key("device", lambda parties: parties.account))])
    assert ACCOUNT in KEYS
