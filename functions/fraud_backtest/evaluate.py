"""Rescore a ledger with candidate models and measure every model against the labels and the champion.

The champion is what the decisions recorded (its score and outcome, whichever version decided); a candidate is
a model file rescored on each decision's recorded inputs. A candidate compares its score with the threshold the
decision used when that was the account's own, else with its own file's threshold, as the functions do. The
metrics are scikit-learn's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    precision_score,
    recall_score,
)

from fraud_backtest.ledger import Ledger, LedgerError
from fraud_functions.scoring import LogisticModel, ModelError, load_logistic_model

CHAMPION = "champion (recorded)"


@dataclass(frozen=True)
class Scored:
    """One model's scores and verdicts on every decision of the ledger, in the ledger's order."""

    name: str
    versions: tuple[str, ...]
    scores: np.ndarray
    alerts: np.ndarray
    thresholds: np.ndarray


@dataclass(frozen=True)
class Measured:
    """What the report says about one model."""

    name: str
    versions: tuple[str, ...]
    threshold: str
    precision: float
    recall: float
    alert_rate: float
    agreement: float
    confusion: dict[str, int]
    average_precision: float | None
    curve: tuple[list[float], list[float]] | None  # (recall, precision)
    changed: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        document = dict(self.__dict__)
        document["versions"] = list(self.versions)
        document.pop("curve")
        return document


def load_candidates(paths: Sequence[Path], ledger: Ledger) -> list[LogisticModel]:
    """Each candidate file, validated; one that reads a source the ledger does not record is refused, naming it."""
    if not ledger.decisions:
        raise LedgerError("the ledger holds no scored decision with recorded inputs in this range")
    available = ledger.sources()
    candidates = []
    for path in paths:
        model = load_logistic_model(path)
        missing = sorted(set(model.sources()) - available)
        if missing:
            raise ModelError(
                f"candidate {path} ({model.version}) needs {', '.join(missing)}, which the ledger's decisions do not "
                f"record (they record {', '.join(sorted(available))}): it cannot be backtested on them"
            )
        candidates.append(model)
    return candidates


def champion(ledger: Ledger) -> Scored:
    decisions = ledger.decisions
    return Scored(
        CHAMPION,
        tuple(sorted({str(d.get("model_version")) for d in decisions})),
        np.array([float(d["score"]) for d in decisions]),
        np.array([d["outcome"] == "alert" for d in decisions]),
        np.array([float(d["threshold"]) for d in decisions]),
    )


def rescored(model: LogisticModel, ledger: Ledger) -> Scored:
    scores, thresholds = [], []
    for decision in ledger.decisions:
        scores.append(model.score(decision["inputs"]).score)
        own = decision.get("threshold_source") == "account"
        thresholds.append(float(decision["threshold"]) if own else model.threshold)
    score_array, threshold_array = np.array(scores), np.array(thresholds)
    return Scored(model.version, (model.version,), score_array, score_array >= threshold_array, threshold_array)


def measure(model: Scored, baseline: Scored, ledger: Ledger) -> Measured:
    labels = np.array([ledger.label(d) for d in ledger.decisions])
    (tn, fp), (fn, tp) = confusion_matrix(labels, model.alerts, labels=[False, True])
    curve, average = None, None
    if labels.any():
        precision, recall, _ = precision_recall_curve(labels, model.scores)
        curve = (recall.tolist(), precision.tolist())
        average = float(average_precision_score(labels, model.scores))
    thresholds = sorted({round(float(t), 6) for t in model.thresholds})
    return Measured(
        name=model.name,
        versions=model.versions,
        threshold=", ".join(f"{t:g}" for t in thresholds),
        precision=float(precision_score(labels, model.alerts, zero_division=0)),
        recall=float(recall_score(labels, model.alerts, zero_division=0)),
        alert_rate=float(np.mean(model.alerts)),
        agreement=float(np.mean(model.alerts == baseline.alerts)),
        confusion={
            "true_negative": int(tn),
            "false_positive": int(fp),
            "false_negative": int(fn),
            "true_positive": int(tp),
        },
        average_precision=average,
        curve=curve,
        changed=_changed(model, baseline, ledger, labels),
    )


def _changed(model: Scored, baseline: Scored, ledger: Ledger, labels: np.ndarray) -> list[dict[str, Any]]:
    """The transactions whose outcome this model would change, against what the champion decided."""
    return [
        {
            "transaction_id": ledger.decisions[index]["transaction_id"],
            "account": ledger.decisions[index].get("account"),
            "champion_score": float(baseline.scores[index]),
            "score": float(model.scores[index]),
            "alert": bool(model.alerts[index]),
            "confirmed_fraud": bool(labels[index]),
        }
        for index in np.flatnonzero(model.alerts != baseline.alerts)
    ]


def backtest(ledger: Ledger, candidate_paths: Sequence[Path]) -> tuple[list[Scored], list[Measured]]:
    """The champion and every candidate, scored and measured on the same decisions."""
    candidates = load_candidates(candidate_paths, ledger)
    baseline = champion(ledger)
    models = [baseline, *(rescored(model, ledger) for model in candidates)]
    return models, [measure(model, baseline, ledger) for model in models]
