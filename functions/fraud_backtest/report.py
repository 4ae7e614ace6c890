"""The backtest's output: report.md for people, report.json for machines, and two PNG plots (matplotlib).

The plots are the precision-recall curve of every model (a model's operating point, at its threshold, marked)
and the distribution of each model's scores with the confirmed frauds apart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from fraud_backtest.evaluate import Measured, Scored
from fraud_backtest.ledger import Ledger

PR_CURVE, SCORES = "precision-recall.png", "scores.png"
CHANGED_SHOWN = 20


def write(out: Path, ledger: Ledger, scored: Sequence[Scored], measured: Sequence[Measured], span: str) -> None:
    """Write report.md, report.json and the plots into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    labelled = sum(ledger.label(d) for d in ledger.decisions)
    document: dict[str, Any] = {
        "range": span,
        "decisions": len(ledger.decisions),
        "confirmed_fraud_decisions": labelled,
        "confirmed_accounts": len(ledger.confirmed),
        "left_out": ledger.left_out,
        "models": [m.to_json() for m in measured],
        "plots": [PR_CURVE, SCORES],
    }
    (out / "report.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    _pr_curve(out / PR_CURVE, measured)
    _scores(out / SCORES, ledger, scored)
    (out / "report.md").write_text(markdown(document, measured), encoding="utf-8")


def markdown(document: dict[str, Any], measured: Sequence[Measured]) -> str:
    lines = [
        "# Backtest",
        "",
        f"{document['decisions']} scored decisions ({document['range']}), {document['confirmed_fraud_decisions']} "
        f"of them of the {document['confirmed_accounts']} accounts confirmed as fraud.",
    ]
    if document["left_out"]:
        lines.append("Left out: " + ", ".join(f"{count} {why}" for why, count in document["left_out"].items()) + ".")
    lines += [
        "",
        "| model | versions | threshold | precision | recall | alert rate | agreement with the champion | "
        "TP | FP | FN | TN | average precision |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for m in measured:
        c = m.confusion
        average = "n/a (no confirmed fraud)" if m.average_precision is None else f"{m.average_precision:.3f}"
        lines.append(
            f"| {m.name} | {', '.join(m.versions)} | {m.threshold} | {m.precision:.3f} | {m.recall:.3f} | "
            f"{m.alert_rate:.2%} | {m.agreement:.2%} | {c['true_positive']} | {c['false_positive']} | "
            f"{c['false_negative']} | {c['true_negative']} | {average} |"
        )
    lines += ["", f"![precision-recall]({PR_CURVE})", f"![scores]({SCORES})"]
    for m in measured[1:]:
        lines += ["", f"## Outcomes {m.name} would change ({len(m.changed)})", ""]
        if not m.changed:
            lines.append("None.")
            continue
        lines += [
            "| transaction | account | champion score | score | would | confirmed fraud |",
            "| --- " * 6 + "|",
        ]
        for change in m.changed[:CHANGED_SHOWN]:
            lines.append(
                f"| `{change['transaction_id']}` | {change['account']} | {change['champion_score']:.4f} | "
                f"{change['score']:.4f} | {'alert' if change['alert'] else 'pass'} | "
                f"{'yes' if change['confirmed_fraud'] else 'no'} |"
            )
        if len(m.changed) > CHANGED_SHOWN:
            lines.append(f"\n... and {len(m.changed) - CHANGED_SHOWN} more in report.json.")
    return "\n".join(lines) + "\n"


def _pr_curve(path: Path, measured: Sequence[Measured]) -> None:
    figure, axes = plt.subplots(figsize=(6, 4.5))
    for m in measured:
        if m.curve is not None:
            axes.step(m.curve[0], m.curve[1], where="post", label=f"{m.name} (AP {m.average_precision:.2f})")
        axes.plot([m.recall], [m.precision], "o", label=f"{m.name} at threshold {m.threshold}")
    axes.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02), title="Precision-recall")
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _scores(path: Path, ledger: Ledger, scored: Sequence[Scored]) -> None:
    labels = [ledger.label(d) for d in ledger.decisions]
    figure, axes = plt.subplots(len(scored), 1, figsize=(6, 2.2 * len(scored)), squeeze=False)
    for row, model in zip(axes[:, 0], scored, strict=True):
        fraud = [s for s, label in zip(model.scores, labels, strict=True) if label]
        other = [s for s, label in zip(model.scores, labels, strict=True) if not label]
        row.hist([other, fraud], bins=20, range=(0, 1), stacked=True, label=["not confirmed", "confirmed fraud"])
        row.set(title=model.name, xlabel="score", ylabel="decisions")
        row.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
