"""The backtest against a small ledger whose figures were worked out by hand (below), and its refusals.

Candidate: score = sigmoid(-5 + 10 * merchant.score / 100), threshold 0.5, so it alerts from merchant score 50 on,
except where the decision used the account's own threshold. Confirmed accounts: A, B, C.

| tx | account | merchant score | champion (recorded) | candidate score | candidate | fraud |
| --- | --- | --- | --- | --- | --- | --- |
| t1 | A | 90 | alert | sigmoid(4) = 0.982 | alert | yes |
| t2 | B | 60 | no_alert | sigmoid(1) = 0.731 | alert | yes |
| t3 | C | 10 | no_alert | sigmoid(-4) = 0.018 | pass | yes |
| t4 | D | 70 | alert | sigmoid(2) = 0.881 | alert | no |
| t5 | E | 20 | no_alert | sigmoid(-3) = 0.047 | pass | no |
| t6 | F | 40 | alert | sigmoid(-1) = 0.269 | pass | no |
| t7 | G | 70, account threshold 0.95 | no_alert | 0.881 | pass | no |

Candidate: TP 2 (t1, t2), FP 1 (t4), FN 1 (t3), TN 3: precision 2/3, recall 2/3, alert rate 3/7; it changes t2
and t6, so agreement 5/7; average precision 1/3 * 1 + 1/3 * 2/4 + 1/3 * 3/7 = 27/42. Champion: TP 1 (t1),
FP 2 (t4, t6), FN 2 (t2, t3), TN 2: precision 1/3, recall 1/3, alert rate 3/7.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fraud_backtest.__main__ import main
from fraud_backtest.evaluate import backtest
from fraud_backtest.ledger import Entry, read_file, select, write_file
from fraud_functions.scoring import ModelError

SINCE, UNTIL = 1_000_000, 2_000_000
CANDIDATE = {
    "version": "candidate-1",
    "intercept": -5.0,
    "threshold": 0.5,
    "features": [
        {"name": "merchant_risk", "source": "merchant.score", "transform": "divide", "parameter": 100,
         "weight": 10.0, "reason_at": 0.7},
    ],
}  # fmt: skip
ROWS = [  # id, account, merchant score, recorded outcome, recorded score, account threshold
    ("t1", "A", 90, "alert", 0.9, None),
    ("t2", "B", 60, "no_alert", 0.5, None),
    ("t3", "C", 10, "no_alert", 0.1, None),
    ("t4", "D", 70, "alert", 0.85, None),
    ("t5", "E", 20, "no_alert", 0.2, None),
    ("t6", "F", 40, "alert", 0.81, None),
    ("t7", "G", 70, "no_alert", 0.7, 0.95),
]


def decision(tx: str, account: str, merchant: float, outcome: str, score: float, own: float | None) -> Entry:
    value = {
        "transaction_id": tx,
        "account": account,
        "outcome": outcome,
        "score": score,
        "threshold": own if own is not None else 0.8,
        "threshold_source": "account" if own is not None else "model",
        "model_version": "champion-1",
        "decided_at_ms": SINCE + 10,
        "inputs": {"merchant.score": merchant, "transaction.amount": 100, "fraud_count.count": 0},
    }
    return Entry("decisions", SINCE + 10, value)


def entries() -> list[Entry]:
    rows = [decision(*row) for row in ROWS]
    confirmations = [Entry("confirmed", SINCE + 500, {"account": account}) for account in "ABC"]
    noise = [
        Entry("confirmed", SINCE - 1, {"account": "D"}),  # before the range: not a label of this range
        Entry("decisions", SINCE - 5, dict(rows[0].value, transaction_id="early", decided_at_ms=SINCE - 5)),
        Entry("decisions", SINCE + 20, {"transaction_id": "x1", "outcome": "dead_letter", "decided_at_ms": SINCE + 20}),
        Entry("decisions", SINCE + 30, dict(rows[4].value, transaction_id="old", inputs={}, decided_at_ms=SINCE + 30)),
    ]
    return rows + confirmations + noise


@pytest.fixture
def candidate(tmp_path) -> Path:
    path = tmp_path / "candidate.json"
    path.write_text(json.dumps(CANDIDATE))
    return path


def test_the_figures_match_the_hand_computed_confusion_matrices(candidate):
    ledger = select(entries(), SINCE, UNTIL)
    assert sorted(d["transaction_id"] for d in ledger.decisions) == [row[0] for row in ROWS]
    assert ledger.confirmed == {"A", "B", "C"}
    assert ledger.left_out == {
        "not scored (dead_letter, expired)": 1,
        "no recorded inputs (written before decisions recorded them)": 1,
    }
    _, (champion, rescored) = backtest(ledger, [candidate])

    assert champion.confusion == {"true_positive": 1, "false_positive": 2, "false_negative": 2, "true_negative": 2}
    assert (champion.precision, champion.recall, champion.alert_rate) == pytest.approx((1 / 3, 1 / 3, 3 / 7))
    assert champion.agreement == 1.0 and champion.versions == ("champion-1",)

    assert rescored.confusion == {"true_positive": 2, "false_positive": 1, "false_negative": 1, "true_negative": 3}
    assert (rescored.precision, rescored.recall) == pytest.approx((2 / 3, 2 / 3))
    assert (rescored.alert_rate, rescored.agreement) == pytest.approx((3 / 7, 5 / 7))
    assert rescored.average_precision == pytest.approx(27 / 42)
    assert rescored.threshold == "0.5, 0.95"
    changed = {c["transaction_id"]: (c["alert"], c["confirmed_fraud"]) for c in rescored.changed}
    assert changed == {"t2": (True, True), "t6": (False, False)}


def test_a_candidate_needing_a_feature_the_ledger_lacks_is_refused(tmp_path, candidate, capsys):
    needy = dict(CANDIDATE, version="needs-velocity")
    needy["features"] = [
        *CANDIDATE["features"],
        {"name": "burst", "source": "velocity.spike_1m", "transform": "cap", "parameter": 10, "weight": 1.0,
         "reason_at": 3},
    ]  # fmt: skip
    path = tmp_path / "needy.json"
    path.write_text(json.dumps(needy))
    with pytest.raises(ModelError, match=f"candidate {path} \\(needs-velocity\\) needs velocity.spike_1m"):
        backtest(select(entries(), SINCE, UNTIL), [candidate, path])

    ledger_file = tmp_path / "ledger.jsonl"
    write_file(ledger_file, entries())
    out = tmp_path / "report"
    assert main(["run", "--ledger", str(ledger_file), "--candidate", str(path), "--out", str(out)]) == 2
    assert "refused: candidate" in capsys.readouterr().err and not out.exists()


def test_the_command_writes_markdown_json_and_plots_from_an_exported_file(tmp_path, candidate):
    ledger_file = tmp_path / "ledger.jsonl"
    write_file(ledger_file, entries())
    assert read_file(ledger_file) == entries()
    out = tmp_path / "report"
    since, until = "1970-01-01T00:16:40", "1970-01-01T00:33:20"  # SINCE and UNTIL, UTC
    arguments = ["run", "--ledger", str(ledger_file), "--since", since, "--until", until]
    assert main([*arguments, "--candidate", str(candidate), "--out", str(out)]) == 0

    document = json.loads((out / "report.json").read_text())
    assert (document["decisions"], document["confirmed_fraud_decisions"]) == (7, 3)
    figures = {m["name"]: m["confusion"]["true_positive"] for m in document["models"]}
    assert figures == {"champion (recorded)": 1, "candidate-1": 2}
    report = (out / "report.md").read_text()
    assert (
        "| candidate-1 | candidate-1 | 0.5, 0.95 | 0.667 | 0.667 | 42.86% | 71.43% | 2 | 1 | 1 | 3 | 0.643 |" in report
    )
    assert "## Outcomes candidate-1 would change (2)" in report
    for plot in ("precision-recall.png", "scores.png"):
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
