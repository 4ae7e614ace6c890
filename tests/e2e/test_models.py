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
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fraud_common.contract import Outcome, Transaction
from fraud_dev.ledger import LedgerReader
from fraud_dev.pipeline import function_metric, restarts, transaction_record
from fraud_simulator.transactions import labelled_scenario
from tests.support import challenger

SEED, COUNT = 20261202, 300
# More compromised cards than the simulator's default, so the backtest has frauds to find in 300 payments.
COMPROMISED_SHARE = 0.03
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


def test_a_challenger_is_shadowed_then_promoted_and_rolled_back_under_traffic(stack, kafka, model_files, promotion):
    labelled = labelled_scenario(SEED, COUNT, compromised_share=COMPROMISED_SHARE)
    transactions = [transaction for transaction, _ in labelled]
    original = model_files.champion.read_bytes()
    shipped = json.loads(original)["version"]
    before = counts(stack, challenger.VERSION)
    reader = LedgerReader(kafka)

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
