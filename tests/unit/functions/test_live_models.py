"""Model files the way fraud teams change them: refused when unusable, reloaded when changed, a challenger in shadow.

The challenger's expected scores come from a formula written here with literal weights, not from the code
under test.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from fraud_common.contract import Outcome
from fraud_dev.scripted import transaction
from fraud_functions.addresses import ALERTS_EGRESS, DECISIONS_EGRESS
from fraud_functions.live_models import CHAMPION, LiveModels
from fraud_functions.metrics import CHALLENGER_AGREEMENT, MODEL_RELOADS, VERSION_DECISIONS
from fraud_functions.scoring import ModelError, load_logistic_model
from fraud_functions.settings import DEFAULT_MODEL_PATH
from fraud_functions.wiring import provided_sources
from tests.support import challenger
from tests.unit.counters import counted
from tests.unit.functions.conftest import make_runtime


def shipped() -> dict:
    return json.loads(DEFAULT_MODEL_PATH.read_text())


def written(path: Path, document: dict | str) -> Path:
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def entry(document: dict, name: str) -> dict:
    return next(item for item in document["features"] if item["name"] == name)


@pytest.mark.parametrize(
    "mutate, problem",
    [
        (lambda d: "{", "is not JSON"),
        (lambda d: entry(d, "amount").pop("weight") and d, r"features\[2\]\.weight is missing"),
        (lambda d: entry(d, "amount").update(wieght=5.0) or d, "features\\[2\\] has unknown keys wieght"),
        (lambda d: d.update(treshold=0.5) or d, "the model has unknown keys treshold"),
        (lambda d: d.update(threshold=1.5) or d, "'threshold' 1.5 must be in"),
        (lambda d: d.update(threshold=0) or d, "'threshold' 0.0 must be in"),
        (lambda d: entry(d, "amount").update(weight="high") or d, r"features\[2\]\.weight must be a finite number"),
    ],
)
def test_an_unusable_model_file_is_refused_naming_the_file_and_the_problem(tmp_path, mutate, problem):
    path = written(tmp_path / "candidate.json", mutate(shipped()))
    with pytest.raises(ModelError, match=problem) as refused:
        load_logistic_model(path)
    assert str(path) in str(refused.value)


def test_a_model_reading_an_unknown_feature_is_refused_at_start_naming_the_file(tmp_path):
    document = shipped()
    entry(document, "amount")["source"] = "transaction.currency"
    path = written(tmp_path / "challenger.json", document)
    models = LiveModels.load(settings_with(challenger_model_path=path))
    with pytest.raises(ModelError, match=f"challenger model file {path}: .*needs transaction.currency"):
        models.check(provided_sources())


def settings_with(**changes):
    from fraud_functions.settings import FunctionSettings

    return replace(FunctionSettings.from_env({}), **changes)


def test_a_changed_file_replaces_the_running_model_and_a_bad_one_is_refused_once(tmp_path):
    path = written(tmp_path / "model.json", shipped())
    models = LiveModels.load(settings_with(model_path=path))
    assert models.reload(provided_sources()) == []  # unchanged

    promoted = dict(shipped(), version="promoted-v2", threshold=0.6)
    written(path, promoted)
    loaded = counted(MODEL_RELOADS, CHAMPION, "loaded")
    assert models.reload(provided_sources()) == [CHAMPION]
    assert (models.champion.version, models.champion_threshold()) == ("promoted-v2", 0.6)
    assert counted(MODEL_RELOADS, CHAMPION, "loaded") == loaded + 1

    refused = counted(MODEL_RELOADS, CHAMPION, "refused")
    for broken in ('{"version": "half-written', dict(promoted, version="v3", threshold=2)):
        written(path, broken)
        assert models.reload(provided_sources()) == [] and models.reload(provided_sources()) == []
        assert models.champion.version == "promoted-v2", "the running version keeps deciding"
    path.unlink()
    assert models.reload(provided_sources()) == [] and models.champion.version == "promoted-v2"
    assert counted(MODEL_RELOADS, CHAMPION, "refused") == refused + 3, "each bad content reported once"

    written(path, shipped())  # rollback
    assert models.reload(provided_sources()) == [CHAMPION] and models.champion.version == shipped()["version"]


def test_the_threshold_belongs_to_the_model_file_unless_explicitly_overridden(tmp_path):
    path = written(tmp_path / "model.json", dict(shipped(), threshold=0.65))
    assert LiveModels.load(settings_with(model_path=path)).champion_threshold() == 0.65
    assert LiveModels.load(settings_with(model_path=path, alert_threshold=0.9)).champion_threshold() == 0.9


async def test_a_challenger_is_scored_in_shadow_recorded_in_each_decision_and_never_alerts(settings, tmp_path):
    # The champion (threshold 0.8) alerts on the first only (0.83, 0.56); the challenger (0.7) would alert on the
    # first two (0.93, 0.72); neither on the small payment.
    from fraud_dev.scripted import ScriptedMerchantClient

    merchants = ScriptedMerchantClient({"Hypergrid": 95, "Midmart": 80, "Calmshop": 5})
    runtime = make_runtime(settings, merchants, challenger_model_path=challenger.write(tmp_path / "c.json"))
    cases = {"tx-big": ("Hypergrid", 950, 95), "tx-mid": ("Midmart", 700, 80), "tx-small": ("Calmshop", 3, 5)}
    champion_version = shipped()["version"]
    agree_before = {
        flag: counted(CHALLENGER_AGREEMENT, champion_version, challenger.VERSION, flag) for flag in ("true", "false")
    }
    would_before = counted(VERSION_DECISIONS, "challenger", challenger.VERSION, "true")
    for index, (tx_id, (merchant, amount, _)) in enumerate(cases.items()):
        await runtime.deliver(transaction(tx_id, account=f"0x0000000{index}", merchant=merchant, amount=amount))

    decisions = {e.key: e.json() for e in runtime.egress if e.egress == DECISIONS_EGRESS}
    alerts = {e.json()["transaction_id"] for e in runtime.egress if e.egress == ALERTS_EGRESS}
    expected_would = set()
    for tx_id, (_, amount, merchant_score) in cases.items():
        decision = decisions[tx_id]
        assert decision["inputs"] == {
            "transaction.amount": amount,
            "merchant.score": merchant_score,
            "fraud_count.count": 0,
            **{key: value for key, value in decision["inputs"].items() if key.startswith("velocity.")},
        }
        expected = challenger.score(decision["inputs"])
        shadow = decision["challenger"]
        assert shadow["model_version"] == challenger.VERSION and shadow["threshold"] == challenger.THRESHOLD
        assert shadow["score"] == pytest.approx(round(expected, 6), abs=1e-9)
        assert shadow["would_alert"] is (expected >= challenger.THRESHOLD)
        if expected >= challenger.THRESHOLD:
            expected_would.add(tx_id)
    assert expected_would == {"tx-big", "tx-mid"}, "the cases must separate the two models"
    champion_alerts = {tx_id for tx_id, d in decisions.items() if d["outcome"] == Outcome.ALERT}
    assert alerts == champion_alerts == {"tx-big"}, "only the champion alerts"
    assert counted(VERSION_DECISIONS, "challenger", challenger.VERSION, "true") == would_before + 2
    assert counted(CHALLENGER_AGREEMENT, champion_version, challenger.VERSION, "true") == agree_before["true"] + 2
    assert counted(CHALLENGER_AGREEMENT, champion_version, challenger.VERSION, "false") == agree_before["false"] + 1
