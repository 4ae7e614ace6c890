"""Golden vectors: the shipped model file scores a table of inputs as `bc` did, to 1e-9.

tests/unit/functions/model_golden.csv was computed outside the project's code, row by row, with
`bc -l` at 40 digits (two rows can be checked by hand, see their `how`):

    echo "scale=40; fc=F; if (fc>10) fc=10; sp=S; if (sp>10) sp=10;
          z=-11.5 + 1.8*fc + 7.5*M/100 + 5.0*l(1+A)/l(1+1000) + 1.0*sp; 1/(1+e(-z))" | bc -l

and its decision is `alert` where that reaches the model's threshold 0.8. The same table holds the
oracle's scorer (tests/support/reference_model.py), so the e2e, reliability and real-node expectations
score with what these vectors pin.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from fraud_functions.scoring import load_logistic_model
from fraud_functions.settings import DEFAULT_MODEL_PATH
from tests.support.reference_model import THRESHOLD, Raw

TABLE = Path(__file__).with_name("model_golden.csv")
ROWS = list(csv.DictReader(TABLE.open(encoding="utf-8")))


def raw(row: dict[str, str]) -> Raw:
    return Raw(
        int(row["fraud_count"]), float(row["merchant_score"]), float(row["amount"]), float(row["velocity_spike"])
    )


def model_values(row: dict[str, str]) -> dict[str, float]:
    """The row as the functions send it to the model: by source."""
    return {
        "fraud_count.count": float(row["fraud_count"]),
        "merchant.score": float(row["merchant_score"]),
        "transaction.amount": float(row["amount"]),
        "velocity.spike_1m": float(row["velocity_spike"]),
    }


def test_the_table_covers_both_decisions_the_caps_and_the_threshold_from_both_sides():
    assert {row["decision"] for row in ROWS} == {"alert", "no_alert"}
    assert any(int(row["fraud_count"]) > 10 for row in ROWS) and any(float(row["velocity_spike"]) > 10 for row in ROWS)
    near = sorted(float(row["probability"]) for row in ROWS if abs(float(row["probability"]) - THRESHOLD) < 0.01)
    assert near[0] < THRESHOLD < near[-1]


@pytest.mark.parametrize("row", ROWS, ids=[row["how"] for row in ROWS])
def test_the_shipped_model_scores_each_golden_row_to_1e_9(row):
    model = load_logistic_model(DEFAULT_MODEL_PATH)
    transformed = {f.name: f.value(value) for f in model.features for value in [model_values(row)[f.source]]}
    assert model.probability(transformed) == pytest.approx(float(row["probability"]), abs=1e-9)
    scored = model.score(model_values(row))
    assert scored.score == pytest.approx(float(row["probability"]), abs=1e-6)  # a decision records it to 6 digits
    assert ("alert" if scored.score >= model.threshold else "no_alert") == row["decision"]


@pytest.mark.parametrize("row", ROWS, ids=[row["how"] for row in ROWS])
def test_the_oracles_scorer_scores_each_golden_row_to_1e_9(row):
    assert raw(row).probability() == pytest.approx(float(row["probability"]), abs=1e-9)
    assert ("alert" if raw(row).probability() >= THRESHOLD else "no_alert") == row["decision"]


def test_the_oracles_feature_names_are_the_shipped_models():
    model = load_logistic_model(DEFAULT_MODEL_PATH)
    assert set(raw(ROWS[0]).transformed()) == {f.name for f in model.features}
