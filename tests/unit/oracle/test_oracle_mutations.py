"""The oracle catches a wrong model, a wrong threshold and a wrong velocity window, on recorded streams.

tests/support/oracle.py decides what the e2e, reliability and real-node decisions must be. Here the same
oracle judges the real functions replayed in process on recorded streams (replay.py): it accepts them as
shipped, and each mutation of the code under test (one weight of the model file changed, the model's
threshold off by 0.01, the velocity window a minute and a half instead of a minute) makes it fail, naming
the decisions that differ.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from fraud_dev.scripted import ScriptedMerchantClient
from fraud_functions.functions import velocity
from fraud_functions.settings import DEFAULT_MODEL_PATH, FunctionSettings
from tests.support.oracle import allowed_values, disagreements
from tests.support.reference_model import merchant_score
from tests.unit.functions.conftest import make_runtime
from tests.unit.oracle.replay import Replay, recorded_events, recorded_inputs, use_clock

EVENTS = recorded_events()
INPUTS = recorded_inputs(EVENTS)


def merchant_service() -> ScriptedMerchantClient:
    """merchant-service's answers for every merchant of the streams."""
    return ScriptedMerchantClient({t.merchant: merchant_score(t.merchant) for t in INPUTS.transactions})


async def replayed(monkeypatch: pytest.MonkeyPatch, **settings: object) -> list[str]:
    clock = use_clock(monkeypatch)
    runtime = make_runtime(FunctionSettings.from_env({}), merchant_service(), **settings)
    decisions = await Replay(runtime, clock).run(EVENTS)
    return disagreements(decisions, INPUTS)


def model_copy(tmp_path: Path, change) -> Path:
    document = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    change(document)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


async def test_the_shipped_functions_decide_the_recorded_streams_as_the_oracle_says(monkeypatch):
    assert await replayed(monkeypatch) == []


def test_the_recorded_streams_reach_what_the_mutations_change():
    """Bursts (spikes above 1), a threshold of each source, confirmations inside and outside their window."""
    allowed = allowed_values(INPUTS)
    assert max(max(a.spikes) for a in allowed.values()) >= 4
    assert {source for a in allowed.values() for _, source in a.thresholds} == {"account", "model"}
    assert {count for a in allowed.values() for count in a.fraud_counts} == {0, 1, 2}


async def test_one_weight_changed_fails_the_oracle(monkeypatch, tmp_path):
    def heavier_merchant(document):
        document["features"][1]["weight"] += 0.1

    found = await replayed(monkeypatch, model_path=model_copy(tmp_path, heavier_merchant))
    assert found and all("score" in line for line in found), found[:3]


async def test_a_threshold_off_by_0_01_fails_the_oracle(monkeypatch, tmp_path):
    def lower(document):
        document["threshold"] = round(document["threshold"] - 0.01, 2)

    found = await replayed(monkeypatch, model_path=model_copy(tmp_path, lower))
    assert any("threshold (0.79, 'model')" in line for line in found), found[:3]
    assert any(line.startswith("border-1") for line in found), "the 0.794 score alerted unnoticed"


async def test_a_velocity_window_of_the_wrong_length_fails_the_oracle(monkeypatch):
    longer = replace(velocity.MINUTE, span_ms=90_000)
    monkeypatch.setattr(velocity, "MINUTE", longer)
    monkeypatch.setattr(velocity, "WINDOWS", {"1m": longer, "1h": velocity.HOUR})
    found = await replayed(monkeypatch)
    assert any(line.startswith("window-2") and "velocity_spike" in line for line in found), found[:3]
