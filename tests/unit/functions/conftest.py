"""Fixtures: the real functions, wired with a scripted merchant client, behind the mini runtime."""

from __future__ import annotations

from dataclasses import replace

import pytest
from statefun import RequestReplyHandler

from fraud_dev.mini_runtime import MiniRuntime
from fraud_dev.scripted import ScriptedMerchantClient
from fraud_functions.live_models import LiveModels
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
