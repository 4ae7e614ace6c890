"""Fraud scoring models: an explainable logistic model read from a file, and the workshop's random one.

The logistic model is deliberately simple so an analyst can read why an alert
fired: every feature's contribution (weight × normalised value) is known, and
the features at or above their `reason_at` level become the alert's reasons,
strongest contribution first. Weights
and version live in a JSON file shipped with the package; MODEL_PATH points to
another file (in Kubernetes, a mounted ConfigMap) to roll out a new model
without a new image.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from fraud_functions.messages import FeatureVector

FEATURES = ("fraud_count", "merchant_risk", "amount")


class ModelError(ValueError):
    """The model file is missing, unreadable or incomplete."""


@dataclass(frozen=True)
class Scored:
    score: float
    model_version: str
    reasons: list[str]


class Model(Protocol):
    version: str

    def score(self, features: FeatureVector) -> Scored: ...


def normalised_features(features: FeatureVector, amount_scale: float, fraud_count_cap: int) -> dict[str, float]:
    """Map raw features to comparable 0..1-ish values.

    Amount grows logarithmically (a 1000 USD purchase is not ten times as
    suspicious as a 100 USD one); confirmed frauds are capped so one account
    with a long history cannot dominate the scale.
    """
    return {
        "fraud_count": float(min(features.fraud_count, fraud_count_cap)),
        "merchant_risk": features.merchant_score / 100.0,
        "amount": math.log1p(features.amount) / math.log1p(amount_scale),
    }


@dataclass(frozen=True)
class LogisticModel:
    version: str
    intercept: float
    weights: dict[str, float]
    amount_scale: float
    fraud_count_cap: int
    reason_at: dict[str, float]

    def score(self, features: FeatureVector) -> Scored:
        values = normalised_features(features, self.amount_scale, self.fraud_count_cap)
        contributions = {name: self.weights[name] * values[name] for name in FEATURES}
        z = self.intercept + sum(contributions.values())
        probability = 1.0 / (1.0 + math.exp(-z))
        raw = {
            "fraud_count": features.fraud_count,
            "merchant_risk": round(features.merchant_score),
            "amount": features.amount,
        }
        reasons = [
            f"{name}={raw[name]}"
            for name, _ in sorted(contributions.items(), key=lambda item: -item[1])
            if values[name] >= self.reason_at[name]
        ]
        return Scored(score=round(probability, 6), model_version=self.version, reasons=reasons)


class RandomModel:
    """The workshop's model: a random score that can only rise with confirmed frauds.

    Kept selectable (MODEL_STRATEGY=random) to reproduce the workshop's
    behaviour side by side; its alert rate is set by the threshold alone.
    """

    version = "workshop-random"

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def score(self, features: FeatureVector) -> Scored:
        value = self._rng.randint(min(features.fraud_count, 99), 100) / 100.0
        return Scored(score=value, model_version=self.version, reasons=[f"fraud_count={features.fraud_count}"])


def _number(document: dict[str, Any], path: str) -> float:
    node: Any = document
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ModelError(f"model file lacks '{path}'")
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, (int, float)) or not math.isfinite(node):
        raise ModelError(f"model file: '{path}' must be a finite number")
    return float(node)


def load_logistic_model(path: Path) -> LogisticModel:
    """Read and validate a model file; any defect is a ModelError naming it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ModelError(f"cannot read model file {path}: {err}") from None
    except json.JSONDecodeError as err:
        raise ModelError(f"model file {path} is not JSON: {err}") from None
    if not isinstance(document, dict):
        raise ModelError(f"model file {path} must hold a JSON object")
    version = document.get("version")
    if not isinstance(version, str) or not version:
        raise ModelError("model file lacks a 'version' string")
    weights = {name: _number(document, f"weights.{name}") for name in FEATURES}
    amount_scale = _number(document, "amount_scale")
    if amount_scale <= 0:
        raise ModelError("model file: 'amount_scale' must be positive")
    return LogisticModel(
        version=version,
        intercept=_number(document, "intercept"),
        weights=weights,
        amount_scale=amount_scale,
        fraud_count_cap=int(_number(document, "fraud_count_cap")),
        reason_at={name: _number(document, f"reason_at.{name}") for name in FEATURES},
    )


def load_model(strategy: str, path: Path) -> Model:
    """The model selected by MODEL_STRATEGY."""
    if strategy == "random":
        return RandomModel()
    return load_logistic_model(path)
