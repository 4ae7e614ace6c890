"""With merchant-service failing or slow, transactions are still scored, and alerts say the score was degraded."""

from __future__ import annotations

import json
import urllib.request

import pytest

from fraud_common.contract import Transaction
from fraud_dev.pipeline import (
    confirm_frauds,
    decided,
    function_metric,
    new_id,
    transaction_record,
    wait_for_metric,
)


def set_faults(stack, **faults) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.config.ports.merchant_service}/admin/faults",
        data=json.dumps(faults).encode(),
        method="PUT",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {stack.admin_token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


@pytest.mark.parametrize(
    "faults",
    [
        {"error_rate": 1.0},
        {"latency_ms_min": 2000, "latency_ms_max": 2000},  # beyond the 0.5 s per-attempt timeout
    ],
    ids=["failing", "slow"],
)
def test_transactions_are_scored_with_a_degraded_merchant_score(stack, kafka, faults):
    account = new_id("acct-")
    confirm_frauds(stack, kafka, account, 3)

    fallbacks = function_metric(stack, "fraud_merchant_lookups_total", {"source": "fallback"})
    set_faults(stack, **faults)
    try:
        tx = Transaction(new_id("tx"), account, new_id("Downshop"), 1000, "2026-11-27T12:00:00")
        since = kafka.end_offsets("alerts")
        before = decided(stack)
        kafka.produce("transactions", [transaction_record(tx)])
        wait_for_metric(stack, "fraud_decisions_total", before + 1)
    finally:
        set_faults(stack, error_rate=0.0, latency_ms_min=1, latency_ms_max=5)

    assert function_metric(stack, "fraud_merchant_lookups_total", {"source": "fallback"}) == fallbacks + 1
    alerts = kafka.read("alerts", since, lambda recs: any(r["key"] == account for r in recs), timeout=30)
    (alert,) = [a["value"] for a in alerts if a["value"]["transaction_id"] == tx.transaction_id]
    assert alert["degraded"] == ["merchant"]
