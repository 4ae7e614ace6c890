"""Confirmed frauds raise later scores, survive a runtime restart, and leave the window when it expires."""

from __future__ import annotations

import time

from fraud_common.contract import Transaction
from fraud_dev.pipeline import (
    confirm_frauds,
    decided,
    merchant_with_risk,
    new_id,
    transaction_record,
    wait_for_checkpoints,
    wait_for_metric,
)
from tests.e2e.conftest import FRAUD_WINDOW_SECONDS


def test_confirmations_raise_scores_survive_a_restart_and_expire(stack, kafka):
    account = new_id("acct-")
    merchant = merchant_with_risk(40, 50)  # alone, never enough for an alert at 1000 USD

    def transaction() -> Transaction:
        return Transaction(new_id("tx"), account, merchant, 1000, "2026-11-27T12:00:00")

    def decide(tx: Transaction) -> list[dict]:
        since = kafka.end_offsets("alerts")
        before = decided(stack)
        kafka.produce("transactions", [transaction_record(tx)])
        wait_for_metric(stack, "fraud_decisions_total", before + 1)
        wait_for_checkpoints(stack)
        alerts = kafka.read("alerts", since, lambda records: False, timeout=2)
        return [a["value"] for a in alerts if a["value"]["transaction_id"] == tx.transaction_id]

    assert decide(transaction()) == []  # no fraud history: no alert

    confirmed_at = time.monotonic()
    confirm_frauds(stack, kafka, account, 3)
    # Two checkpoints: one already under way when the confirmations were handled may complete without
    # them; restoring from it would replay the confirmations and restart their window.
    wait_for_checkpoints(stack, 2)

    stack.restart("statefun-runtime")  # state and the pending expiry timers come back from the checkpoint

    (alert,) = decide(transaction())
    assert "fraud_count=3" in alert["reasons"] and alert["account"] == account
    assert time.monotonic() - confirmed_at < FRAUD_WINDOW_SECONDS, "the test was too slow to see the window"

    time.sleep(max(0.0, FRAUD_WINDOW_SECONDS + 5 - (time.monotonic() - confirmed_at)))
    assert decide(transaction()) == []  # the confirmations left the window
