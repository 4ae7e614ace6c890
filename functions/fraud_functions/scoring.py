"""Fraud scoring models: an explainable logistic model read from a file, and the workshop's random one.

The model file names its features and where each comes from: a lookup's value
("merchant.score", "velocity.count_1m") or the transaction ("transaction.amount"),
with a transform that makes it comparable (a cap, a divisor, a logarithmic scale),
a weight and the level from which it is named in an alert's reasons. So a new
feature is a new lookup function plus a line in the model file; a model that
needs a value no lookup provides fails at start, naming what is missing.

The model is deliberately simple so an analyst can read why an alert fired:
every feature's contribution (weight times transformed value) is known, and the
features at or above their `reason_at` level become the reasons, strongest first.
MODEL_PATH points to another file (in Kubernetes, a mounted ConfigMap) to roll
out a new model without a new image.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

TRANSACTION_SOURCES = ("transaction.amount",)


class ModelError(ValueError):
    """The model file is missing, unreadable, incomplete, or needs a value nothing provides."""


@dataclass(frozen=True)
class Scored:
    score: float
    model_version: str
    reasons: list[str]
    features: dict[str, float]


class Model(Protocol):
    @property
    def version(self) -> str: ...

    @property
    def threshold(self) -> float: ...

    def sources(self) -> tuple[str, ...]: ...

    def score(self, values: Mapping[str, float]) -> Scored: ...


TRANSFORMS: dict[str, Callable[[float, float], float]] = {
    "cap": lambda value, cap: float(min(value, cap)),
    "divide": lambda value, divisor: value / divisor,
    # Logarithmic: a 1000 USD purchase is not ten times as suspicious as a 100 USD one.
    "log_scale": lambda value, scale: math.log1p(max(value, 0.0)) / math.log1p(scale),
}


@dataclass(frozen=True)
class Feature:
    name: str
    source: str
    transform: str
    parameter: float
    weight: float
    reason_at: float

    def value(self, raw: float) -> float:
        return TRANSFORMS[self.transform](raw, self.parameter)


def _reason_value(raw: float) -> str:
    return str(round(raw)) if abs(raw - round(raw)) < 1e-9 or abs(raw) >= 10 else f"{raw:.2f}"


@dataclass(frozen=True)
class LogisticModel:
    version: str
    intercept: float
    threshold: float
    features: tuple[Feature, ...]

    def sources(self) -> tuple[str, ...]:
        return tuple(feature.source for feature in self.features)

    def probability(self, transformed: Mapping[str, float]) -> float:
        """The score from feature values after their transforms (for example a decision's recorded `features`)."""
        z = self.intercept + sum(f.weight * transformed[f.name] for f in self.features)
        return 1.0 / (1.0 + math.exp(-z))

    def score(self, values: Mapping[str, float]) -> Scored:
        transformed = {f.name: f.value(float(values.get(f.source, 0.0))) for f in self.features}
        contributions = {f.name: f.weight * transformed[f.name] for f in self.features}
        probability = self.probability(transformed)
        by_name = {f.name: f for f in self.features}
        reasons = [
            f"{name}={_reason_value(float(values.get(by_name[name].source, 0.0)))}"
            for name, _ in sorted(contributions.items(), key=lambda item: -item[1])
            if transformed[name] >= by_name[name].reason_at
        ]
        return Scored(
            score=round(probability, 6),
            model_version=self.version,
            reasons=reasons,
            features={name: round(value, 6) for name, value in transformed.items()},
        )


class RandomModel:
    """The workshop's model: a random score that can only rise with confirmed frauds.

    Kept selectable (MODEL_STRATEGY=random) to reproduce the workshop's
    behaviour side by side; its alert rate is set by the threshold alone.
    """

    version = "workshop-random"
    threshold = 0.8

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def sources(self) -> tuple[str, ...]:
        return ("fraud_count.count",)

    def score(self, values: Mapping[str, float]) -> Scored:
        count = int(values.get("fraud_count.count", 0))
        value = self._rng.randint(min(count, 99), 100) / 100.0
        return Scored(
            score=value,
            model_version=self.version,
            reasons=[f"fraud_count={count}"],
            features={"fraud_count": float(count)},
        )


MODEL_KEYS = frozenset({"version", "description", "intercept", "threshold", "features"})
FEATURE_KEYS = frozenset({"name", "source", "transform", "parameter", "weight", "reason_at"})


def _number(node: Any, where: str) -> float:
    if node is None:
        raise ModelError(f"{where} is missing")
    if isinstance(node, bool) or not isinstance(node, (int, float)) or not math.isfinite(node):
        raise ModelError(f"{where} must be a finite number, not {node!r}")
    return float(node)


def _unknown_keys(entry: dict[str, Any], known: frozenset[str], where: str) -> None:
    """A misspelt key ("wieght") would otherwise read as a missing one, or be ignored: name it."""
    unknown = sorted(set(entry) - known)
    if unknown:
        raise ModelError(f"{where} has unknown keys {', '.join(unknown)} (known: {', '.join(sorted(known))})")


def _feature(entry: Any, index: int) -> Feature:
    where = f"features[{index}]"
    if not isinstance(entry, dict):
        raise ModelError(f"{where} must be an object")
    _unknown_keys(entry, FEATURE_KEYS, where)
    for key in ("name", "source", "transform"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise ModelError(f"{where}.{key} must be a non-empty string")
    transform = entry["transform"]
    if transform not in TRANSFORMS:
        raise ModelError(f"{where}.transform {transform!r} is not one of {', '.join(TRANSFORMS)}")
    parameter = _number(entry.get("parameter"), f"{where}.parameter")
    if parameter <= 0:
        raise ModelError(f"{where}.parameter must be positive")
    return Feature(
        entry["name"],
        entry["source"],
        transform,
        parameter,
        _number(entry.get("weight"), f"{where}.weight"),
        _number(entry.get("reason_at"), f"{where}.reason_at"),
    )


def parse_logistic_model(document: Any) -> LogisticModel:
    """Validate a model document; any defect is a ModelError saying where it is."""
    if not isinstance(document, dict):
        raise ModelError("must hold a JSON object")
    _unknown_keys(document, MODEL_KEYS, "the model")
    version = document.get("version")
    if not isinstance(version, str) or not version:
        raise ModelError("lacks a 'version' string")
    entries = document.get("features")
    if not isinstance(entries, list) or not entries:
        raise ModelError("lacks a non-empty 'features' list")
    features = tuple(_feature(entry, index) for index, entry in enumerate(entries))
    if len({f.name for f in features}) != len(features):
        raise ModelError("feature names must be unique")
    threshold = _number(document.get("threshold"), "'threshold'")
    if not 0 < threshold <= 1:
        raise ModelError(f"'threshold' {threshold} must be in (0, 1]")
    return LogisticModel(version, _number(document.get("intercept"), "'intercept'"), threshold, features)


def load_logistic_model(path: Path) -> LogisticModel:
    """Read and validate a model file; any defect is a ModelError naming the file and the problem."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ModelError(f"cannot read model file {path}: {err}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelError(f"model file {path} is not JSON: {err}") from None
    try:
        return parse_logistic_model(document)
    except ModelError as err:
        raise ModelError(f"model file {path}: {err}") from None


def load_model(strategy: str, path: Path) -> Model:
    """The model selected by MODEL_STRATEGY."""
    if strategy == "random":
        return RandomModel()
    return load_logistic_model(path)


def check_sources(model: Model, provided: Iterable[str]) -> None:
    """Fail at start when the model needs a value that no declared lookup (nor the transaction) provides."""
    available = set(provided) | set(TRANSACTION_SOURCES)
    missing = [source for source in model.sources() if source not in available]
    if missing:
        raise ModelError(
            f"model {model.version} needs {', '.join(missing)}, which no function provides; "
            f"available: {', '.join(sorted(available))}"
        )
