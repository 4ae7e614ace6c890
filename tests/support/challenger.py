"""A challenger model for the suites that run one, written out here with literal weights, and its score by hand.

The file the functions load is made from these literals (not from the shipped model), and the expected score
of a decision is computed from the values it records (`inputs`, by source) with the same literals and the
transforms spelled out below: an oracle that does not run the code under test.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

VERSION = "challenger-literal-1"
INTERCEPT = -12.0
THRESHOLD = 0.7
# The shipped model's features with merchant risk weighted 9.0 instead of 7.5: it alerts more at risky merchants.
WEIGHTS = {"fraud_count": 1.8, "merchant_risk": 9.0, "amount": 5.0, "velocity_spike": 1.0}


def document(version: str = VERSION) -> dict:
    """The challenger's model file."""
    return {
        "version": version,
        "description": "test challenger: merchant risk weighted 9.0",
        "intercept": INTERCEPT,
        "threshold": THRESHOLD,
        "features": [
            {"name": "fraud_count", "source": "fraud_count.count", "transform": "cap", "parameter": 10,
             "weight": WEIGHTS["fraud_count"], "reason_at": 1},
            {"name": "merchant_risk", "source": "merchant.score", "transform": "divide", "parameter": 100,
             "weight": WEIGHTS["merchant_risk"], "reason_at": 0.7},
            {"name": "amount", "source": "transaction.amount", "transform": "log_scale", "parameter": 1000,
             "weight": WEIGHTS["amount"], "reason_at": 0.8},
            {"name": "velocity_spike", "source": "velocity.spike_1m", "transform": "cap", "parameter": 10,
             "weight": WEIGHTS["velocity_spike"], "reason_at": 3},
        ],
    }  # fmt: skip


def write(path: Path, version: str = VERSION) -> Path:
    path.write_text(json.dumps(document(version)), encoding="utf-8")
    return path


def score(inputs: Mapping[str, float]) -> float:
    """The challenger's probability from a decision's recorded inputs, by hand."""
    z = (
        INTERCEPT
        + WEIGHTS["fraud_count"] * min(inputs["fraud_count.count"], 10)
        + WEIGHTS["merchant_risk"] * inputs["merchant.score"] / 100
        + WEIGHTS["amount"] * math.log1p(max(inputs["transaction.amount"], 0)) / math.log1p(1000)
        + WEIGHTS["velocity_spike"] * min(inputs["velocity.spike_1m"], 10)
    )
    return 1 / (1 + math.exp(-z))
