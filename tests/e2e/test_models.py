"""Models the way fraud teams change them, on the real runtime: a challenger in shadow, then promoted and rolled back
under traffic by swapping the champion's file, with the ledger exact.

The stack (conftest.py) runs a copy of the shipped model as the champion and tests/support/challenger.py's in
shadow. A seeded stream flows while the champion's file is replaced by the challenger's (promotion) and then by
the original (rollback). Expectations come from the inputs each decision records and the challenger's literal
weights (tests/support/challenger.py), never from the scores under test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fraud_common.contract import Outcome, Transaction
from fraud_dev.ledger import LedgerReader
from fraud_dev.pipeline import function_metric, restarts, transaction_record
from fraud_dev.stack.kafka_security import ADMIN
from fraud_simulator.transactions import labelled_scenario
from tests.e2e import seeds
from tests.support import challenger

SEED, COUNT = seeds.MODELS, 300
# More compromised cards than the simulator's default, so the backtest has frauds to find in 300 payments.
COMPROMISED_SHARE = 0.03
# Promoted before payment 100, rolled back before payment 200 once the promoted model has decided some.
PROMOTE_AT, ROLLBACK_AT = 100, 200
PACE_SECONDS = 0.025  # 40 transactions/s: the file swaps happen with transactions in flight


def replace_file(path: Path, content: bytes) -> None:
    """Swap a model file atomically, as a ConfigMap update or `mv` does: the server never reads half a file."""
    fresh = path.with_suffix(".next")
    fresh.write_bytes(content)
    os.replace(fresh, path)


def champion_loaded_at(stack, version: str) -> float | None:
    """When the function server started scoring with `version` as champion (None: not yet)."""
    if function_metric(stack, "fraud_model_info", {"role": "champion", "version": version}) != 1:
        return None
    return function_metric(stack, "fraud_model_loaded_timestamp_seconds", {"role": "champion"})


def paced(
    transactions: list[Transaction], swaps: dict[int, Callable[[], None]], seen: Callable[[], None]
) -> Iterator[tuple[bytes, bytes]]:
    """The records at PACE_SECONDS each; `swaps[i]` runs before record i, `seen` after every record."""
    for index, transaction in enumerate(transactions):
        if index in swaps:
            swaps[index]()
        time.sleep(PACE_SECONDS)
        yield transaction_record(transaction)
        seen()


def counts(stack, version: str) -> dict[str, float]:
    """The function server's counts by model version (the challenger's, and the champion's once promoted)."""
    decisions = "fraud_model_decisions_total"
    return {
        "challenger would alert": function_metric(
            stack, "fraud_model_decisions_total", {"role": "challenger", "version": version, "alert": "true"}
        ),
        "challenger scored": function_metric(
            stack, "fraud_model_decisions_total", {"role": "challenger", "version": version}
        ),
        "champion scored": function_metric(stack, decisions, {"role": "champion", "version": version}),
        "agreements": function_metric(stack, "fraud_model_agreement_total", {"challenger": version}),
    }


def promoted_decided(stack, before: dict[str, float], at_least: int = 20, timeout: float = 90) -> None:
    """Before rolling back, let the promoted model decide some of the transactions in flight: on a busy machine
    the pipeline can lag the producer by more than the promotion's share of the stream."""
    deadline = time.monotonic() + timeout
    while counts(stack, challenger.VERSION)["champion scored"] - before["champion scored"] < at_least:
        assert time.monotonic() < deadline, f"the promoted model decided fewer than {at_least} in {timeout}s"
        time.sleep(0.2)


@pytest.fixture
def promotion(stack, model_files) -> Iterator[dict[str, float]]:
    """Promotes and rolls back while the stream flows; records when the server switched. Always rolls back."""
    original = model_files.champion.read_bytes()
    shipped = json.loads(original)["version"]
    switched: dict[str, float] = {}
    yield switched
    replace_file(model_files.champion, original)
    deadline = time.monotonic() + 30
    while champion_loaded_at(stack, shipped) is None:
        assert time.monotonic() < deadline, "the rollback was not picked up: later tests would score another model"
        time.sleep(0.5)


def test_a_challenger_is_shadowed_then_promoted_and_rolled_back_under_traffic(
    stack, kafka, model_files, promotion, tmp_path
):
    labelled = labelled_scenario(SEED, COUNT, compromised_share=COMPROMISED_SHARE)
    transactions = [transaction for transaction, _ in labelled]
    original = model_files.champion.read_bytes()
    shipped = json.loads(original)["version"]
    before = counts(stack, challenger.VERSION)
    reader = LedgerReader(kafka)
    since = time.time()

    def watch() -> None:
        """Note when the server reports each switch (polled between records: the traffic keeps flowing)."""
        for written, switched, version in (
            ("promotion_written", "promoted", challenger.VERSION),
            ("rollback_written", "rolled_back", shipped),
        ):
            if written in promotion and switched not in promotion:
                at = champion_loaded_at(stack, version)
                if at is not None:
                    promotion[switched] = at

    swaps = {
        PROMOTE_AT: lambda: (
            replace_file(model_files.champion, model_files.challenger.read_bytes()),
            promotion.update(promotion_written=time.time()),
        ),
        ROLLBACK_AT: lambda: (
            promoted_decided(stack, before),
            replace_file(model_files.champion, original),
            promotion.update(rollback_written=time.time()),
        ),
    }
    kafka.produce("transactions", paced(transactions, swaps, watch))
    report = reader.collect({t.transaction_id for t in transactions}, timeout=120)
    deadline = time.monotonic() + 10
    while "rolled_back" not in promotion and time.monotonic() < deadline:
        watch()
        time.sleep(0.2)

    # Every transaction exactly one decision, alerts to match, no restart.
    report.assert_exact()
    assert restarts(stack) == 0
    assert {"promoted", "rolled_back"} <= set(promotion), f"the server did not report both switches: {promotion}"
    promoted_ms, rolled_back_ms = promotion["promoted"] * 1000, promotion["rolled_back"] * 1000

    would_alert, by_version = set(), {shipped: [], challenger.VERSION: []}
    for transaction in transactions:
        (decision,) = report.decisions[transaction.transaction_id]
        assert Outcome(decision["outcome"]) in (Outcome.ALERT, Outcome.NO_ALERT), decision
        inputs, shadow = decision["inputs"], decision["challenger"]
        assert (inputs["transaction.amount"], decision["account"]) == (transaction.amount, transaction.account)
        # Both scores in every decision; the challenger's from its literal weights.
        expected = challenger.score(inputs)
        assert shadow["model_version"] == challenger.VERSION and shadow["threshold"] == challenger.THRESHOLD
        assert shadow["score"] == pytest.approx(expected, abs=1e-6), transaction
        assert shadow["would_alert"] is (expected >= challenger.THRESHOLD), transaction
        if expected >= challenger.THRESHOLD:
            would_alert.add(transaction.transaction_id)
        by_version[decision["model_version"]].append(decision)
        received_ms = decision["decided_at_ms"] - decision["latency_ms"]
        if decision["model_version"] == challenger.VERSION:
            # Promoted: scored after the switch and before the rollback; decided as the challenger's literals say.
            assert promoted_ms // 1 <= decision["decided_at_ms"] and received_ms <= rolled_back_ms, decision
            assert decision["threshold_source"] == "model" and decision["threshold"] == challenger.THRESHOLD
            assert decision["score"] == pytest.approx(expected, abs=1e-6)
            assert (Outcome(decision["outcome"]) is Outcome.ALERT) is (expected >= challenger.THRESHOLD)
        else:
            # The shipped champion: received before the promotion, or decided after the rollback.
            assert received_ms <= promoted_ms or decision["decided_at_ms"] >= rolled_back_ms // 1, decision

    assert by_version[shipped] and by_version[challenger.VERSION], "both versions decided part of the stream"
    alerted_by_challenger = {d["transaction_id"] for d in by_version[challenger.VERSION] if d["outcome"] == "alert"}
    assert alerted_by_challenger <= report.alerted, "the promoted model alerts"

    # The metrics by version count the same decisions.
    after = counts(stack, challenger.VERSION)
    assert after["challenger would alert"] - before["challenger would alert"] == len(would_alert)
    assert after["challenger scored"] - before["challenger scored"] == COUNT
    assert after["agreements"] - before["agreements"] == COUNT
    assert after["champion scored"] - before["champion scored"] == len(by_version[challenger.VERSION])

    backtested(stack, kafka, labelled, report.decisions, since, model_files, tmp_path)


def backtest_command(stack, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fraud_backtest", *arguments],
        env={**os.environ, **stack.config.kafka_env(ADMIN)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def backtested(stack, kafka, labelled, decisions, since: float, model_files, tmp_path: Path) -> None:
    """The scenario's ledger, with the simulator's compromised cards confirmed, backtested by the command: its
    figures for the challenger must be what the challenger's literal weights and the ground truth give."""
    frauds = sorted({transaction.account for transaction, compromised in labelled if compromised})
    assert frauds, "the scenario has compromised cards to find"
    kafka.produce("confirmed", [(account.encode(), json.dumps({"account": account}).encode()) for account in frauds])
    until = time.time()
    exported = tmp_path / "ledger.jsonl"
    result = backtest_command(
        stack, "export", "--bootstrap-servers", stack.config.bootstrap_servers, "--out", str(exported)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "report"
    window = (
        "--since",
        datetime.fromtimestamp(since, UTC).isoformat(),
        "--until",
        datetime.fromtimestamp(until, UTC).isoformat(),
    )
    arguments = (
        "run",
        "--ledger",
        str(exported),
        *window,
        "--candidate",
        str(model_files.challenger),
        "--out",
        str(out),
    )
    result = backtest_command(stack, *arguments)
    assert result.returncode == 0, result.stderr[-3000:]

    # The oracle: the ground truth of the scenario and the challenger's literal weights on the recorded inputs.
    recorded = [decision for (decision,) in decisions.values()]
    fraud = [d["account"] in frauds for d in recorded]
    would = [challenger.score(d["inputs"]) >= challenger.THRESHOLD for d in recorded]
    champion = [d["outcome"] == "alert" for d in recorded]
    document = json.loads((out / "report.json").read_text())
    assert document["decisions"] == len(recorded) == COUNT and document["confirmed_fraud_decisions"] == sum(fraud)
    by_name = {model["name"]: model for model in document["models"]}
    for name, alerts in (("champion (recorded)", champion), (challenger.VERSION, would)):
        expected = {
            "true_positive": sum(a and f for a, f in zip(alerts, fraud, strict=True)),
            "false_positive": sum(a and not f for a, f in zip(alerts, fraud, strict=True)),
            "false_negative": sum(f and not a for a, f in zip(alerts, fraud, strict=True)),
            "true_negative": sum(not a and not f for a, f in zip(alerts, fraud, strict=True)),
        }
        assert by_name[name]["confusion"] == expected, name
        assert by_name[name]["alert_rate"] == pytest.approx(sum(alerts) / COUNT)
    changed = {c["transaction_id"] for c in by_name[challenger.VERSION]["changed"]}
    assert changed == {d["transaction_id"] for d, a, c in zip(recorded, would, champion, strict=True) if a != c}
    assert by_name[challenger.VERSION]["agreement"] == pytest.approx(1 - len(changed) / COUNT)
    assert "| model | versions | threshold | precision | recall |" in (out / "report.md").read_text()
    for plot in document["plots"]:
        assert (out / plot).read_bytes()[:4] == b"\x89PNG"

    # A candidate that reads a value the decisions do not record is refused, naming it.
    needy = json.loads(model_files.challenger.read_text())
    needy["features"][0]["source"] = "velocity.amount_1h_by_country"
    (tmp_path / "needy.json").write_text(json.dumps(needy))
    refused = backtest_command(
        stack, "run", "--ledger", str(exported), "--candidate", str(tmp_path / "needy.json"), "--out", str(out)
    )
    assert refused.returncode == 2 and "needs velocity.amount_1h_by_country" in refused.stderr, refused.stderr
