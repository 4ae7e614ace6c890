"""The scoring model: deterministic logistic scoring from a replaceable file, and the workshop's random strategy."""

from __future__ import annotations

import json
import random
import re

import pytest

from fraud_functions.scoring import (
    ModelError,
    RandomModel,
    check_sources,
    load_logistic_model,
    load_model,
)
from fraud_functions.settings import DEFAULT_MODEL_PATH


def values(amount=500, fraud_count=0, merchant_score=50.0, spike=1.0) -> dict[str, float]:
    """An ordinary payment's values: a spike of 1 is the account paying at its usual rate."""
    return {
        "transaction.amount": amount,
        "fraud_count.count": fraud_count,
        "merchant.score": merchant_score,
        "velocity.spike_1m": spike,
    }


@pytest.fixture
def model():
    return load_logistic_model(DEFAULT_MODEL_PATH)


def test_scores_are_deterministic_probabilities(model):
    first, second = model.score(values()), model.score(values())
    assert first == second and 0 <= first.score <= 1


@pytest.mark.parametrize("feature", ["amount", "fraud_count", "merchant_score", "spike"])
def test_score_rises_with_every_risk_feature(model, feature):
    low = {"amount": 10, "fraud_count": 0, "merchant_score": 10.0, "spike": 1.0}
    high = dict(low, **{feature: {"amount": 1000, "fraud_count": 3, "merchant_score": 95.0, "spike": 6}[feature]})
    assert model.score(values(**high)).score > model.score(values(**low)).score


def test_reasons_name_the_features_that_drove_the_score(model):
    scored = model.score(values(amount=950, fraud_count=2, merchant_score=93))
    assert scored.reasons == ["merchant_risk=93", "amount=950", "fraud_count=2"]
    assert scored.features["merchant_risk"] == 0.93 and scored.features["fraud_count"] == 2
    assert model.score(values(amount=5, fraud_count=0, merchant_score=10)).reasons == []


def test_alert_rate_without_fraud_history_is_a_few_percent(model):
    rng = random.Random(7)
    scores = [model.score(values(rng.randint(1, 1000), 0, rng.randint(0, 100))).score for _ in range(5000)]
    rate = sum(s >= model.threshold for s in scores) / len(scores)
    assert 0.01 < rate < 0.06  # the workshop alerted ~98%


def test_a_replacement_model_file_is_used(tmp_path):
    document = json.loads(DEFAULT_MODEL_PATH.read_text())
    document.update(version="mounted-v2", intercept=50, threshold=0.5)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(document))
    model = load_model("model-file", path)
    assert (model.version, model.threshold) == ("mounted-v2", 0.5) and model.score(values()).score == 1.0


def feature(document: dict, name: str) -> dict:
    return next(entry for entry in document["features"] if entry["name"] == name)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("version"), "version"),
        (lambda d: d.pop("features"), "features"),
        (lambda d: feature(d, "amount").pop("weight"), r"features\[2\].weight"),
        (lambda d: feature(d, "amount").update(transform="square"), "transform"),
        (lambda d: feature(d, "amount").update(parameter=0), "parameter"),
        (lambda d: d.update(intercept="high"), "intercept"),
        (lambda d: d.update(threshold=1.5), "threshold"),
        (lambda d: d["features"].append(dict(feature(d, "amount"))), "unique"),
    ],
)
def test_a_broken_model_file_fails_with_a_clear_error(tmp_path, mutate, message):
    document = json.loads(DEFAULT_MODEL_PATH.read_text())
    mutate(document)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ModelError, match=message):
        load_logistic_model(path)


def test_a_model_needing_a_value_no_function_provides_fails_naming_it(model):
    """Read from the model file itself, so a feature a new lookup provides needs no edit here."""
    provided = [source for source in model.sources() if source != "transaction.amount"]
    check_sources(model, provided)
    with pytest.raises(ModelError, match=re.escape("needs merchant.score, which no function provides")):
        check_sources(model, [source for source in provided if source != "merchant.score"])


def test_unreadable_model_file_fails_clearly(tmp_path):
    with pytest.raises(ModelError, match="cannot read"):
        load_logistic_model(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ModelError, match="not JSON"):
        load_logistic_model(tmp_path / "bad.json")


def test_random_strategy_reproduces_the_workshop_and_never_scores_below_the_fraud_count():
    model = load_model("random", DEFAULT_MODEL_PATH)
    assert isinstance(model, RandomModel) and model.version == "workshop-random"
    scores = [model.score(values(fraud_count=60)).score for _ in range(200)]
    assert min(scores) >= 0.6 and max(scores) <= 1.0 and len(set(scores)) > 5
