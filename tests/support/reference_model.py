"""The fraud model restated with its literal weights: the oracle's scorer, independent of fraud_functions.scoring.

The tests that hold the pipeline's decisions to what the model must make of their inputs score them here,
not with the code under test: a wrong transform, weight or threshold in the shipped model (or in the code
that reads it) then shows as a disagreement instead of passing through both sides. This formula and the
shipped model file are both held to tests/unit/functions/model_golden.csv, which `bc` computed
(tests/unit/functions/test_model_golden.py says how), so the two cannot drift apart unnoticed: a new model
is a new table, this file and the model file together.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

INTERCEPT = -11.5
THRESHOLD = 0.8  # the model's own; an account's record on the thresholds topic replaces it
FRAUD_COUNT_WEIGHT, FRAUD_COUNT_CAP = 1.8, 10
MERCHANT_WEIGHT, MERCHANT_DIVISOR = 7.5, 100
AMOUNT_WEIGHT, AMOUNT_SCALE = 5.0, 1000
SPIKE_WEIGHT, SPIKE_CAP = 1.0, 10


@dataclass(frozen=True)
class Raw:
    """A transaction's features before their transforms: what the inputs imply."""

    fraud_count: int
    merchant_score: float
    amount: float
    velocity_spike: float

    def transformed(self) -> dict[str, float]:
        """The values a decision records under `features`, by the model's feature names."""
        return {
            "fraud_count": float(min(self.fraud_count, FRAUD_COUNT_CAP)),
            "merchant_risk": self.merchant_score / MERCHANT_DIVISOR,
            "amount": math.log1p(max(self.amount, 0.0)) / math.log1p(AMOUNT_SCALE),
            "velocity_spike": float(min(self.velocity_spike, SPIKE_CAP)),
        }

    def probability(self) -> float:
        features = self.transformed()
        z = (
            INTERCEPT
            + FRAUD_COUNT_WEIGHT * features["fraud_count"]
            + MERCHANT_WEIGHT * features["merchant_risk"]
            + AMOUNT_WEIGHT * features["amount"]
            + SPIKE_WEIGHT * features["velocity_spike"]
        )
        return 1.0 / (1.0 + math.exp(-z))


def merchant_score(merchant: str) -> int:
    """What merchant-service answers: the first 64 bits of SHA-256 of the name, modulo 101."""
    return int.from_bytes(hashlib.sha256(merchant.encode("utf-8")).digest()[:8], "big") % 101
