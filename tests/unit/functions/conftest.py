"""Fixtures: the real functions, wired with a scripted merchant client, behind the mini runtime."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from statefun import RequestReplyHandler

from fraud_dev.mini_runtime import MiniRuntime
from fraud_dev.scripted import ScriptedMerchantClient, feature_query
from fraud_functions.addresses import TRANSACTION_MANAGER
from fraud_functions.declarations import Key
from fraud_functions.live_models import LiveModels
from fraud_functions.messages import FeatureAnswers
from fraud_functions.settings import FunctionSettings
from fraud_functions.wiring import wire


@pytest.fixture
def settings() -> FunctionSettings:
    return FunctionSettings.from_env({})


@pytest.fixture
def merchants() -> ScriptedMerchantClient:
    return ScriptedMerchantClient({"Hypergrid": 95, "Calmshop": 5, "Zeromart": 0})


def make_runtime(settings: FunctionSettings, merchants: ScriptedMerchantClient, **overrides) -> MiniRuntime:
    settings = replace(settings, **overrides)
    wiring = wire(settings, merchants, LiveModels.load(settings))
    return MiniRuntime(RequestReplyHandler(wiring.functions))


@pytest.fixture
def runtime(settings, merchants) -> MiniRuntime:
    return make_runtime(settings, merchants)


async def feature_answers(runtime: MiniRuntime, key: Key, address_id: str, **query) -> dict:
    """Ask one key's function alone (the last of its route: it answers transaction-manager); its FeatureAnswers."""
    (out,) = await runtime.invoke([feature_query(key.typename, address_id, **query)])
    assert (out.target, out.typename) == (TRANSACTION_MANAGER, FeatureAnswers.TYPENAME) and out.value is not None
    return json.loads(out.value)


async def feature_values(runtime: MiniRuntime, key: Key, address_id: str, feature: str, **query) -> dict:
    """One feature's values, from its key's function alone."""
    return (await feature_answers(runtime, key, address_id, **query))["answers"][feature]
