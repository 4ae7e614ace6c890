"""Where the inputs cannot say, the oracle allows a bounded set and nothing beyond it (tests/support/oracle.py)."""

from __future__ import annotations

from fraud_common.contract import Transaction
from tests.support.oracle import Inputs, ThresholdRecord, disagreements
from tests.support.reference_model import THRESHOLD, Raw, merchant_score


def payment(index: int, account: str = "acct") -> Transaction:
    return Transaction(f"tx-{index}", account, "Shop", 500, "2026-12-02T10:00:00")


def decision(transaction: Transaction, spike: float, threshold: float = THRESHOLD, source: str = "model") -> dict:
    raw = Raw(0, merchant_score(transaction.merchant), transaction.amount, spike)
    score = round(raw.probability(), 6)
    return {
        "outcome": "alert" if score >= threshold else "no_alert",
        "features": {name: round(value, 6) for name, value in raw.transformed().items()},
        "score": score,
        "threshold": threshold,
        "threshold_source": source,
        "degraded": [],
    }


def found(inputs: Inputs, spikes: list[float], **fields) -> list[str]:
    decisions = {t.transaction_id: [decision(t, s, **fields)] for t, s in zip(inputs.transactions, spikes, strict=True)}
    return disagreements(decisions, inputs)


def test_within_a_minute_each_position_once_in_any_order():
    inputs = Inputs([payment(i) for i in range(3)], velocity_span_s=30)
    assert found(inputs, [2, 3, 1]) == []
    assert found(inputs, [1, 1, 3]) != []  # the same position twice
    assert found(inputs, [1, 2, 4]) != []  # a fourth payment that never was


def test_over_a_minute_or_after_earlier_payments_any_spike_in_the_range_and_none_outside():
    longer = Inputs([payment(i) for i in range(3)], velocity_span_s=90)
    assert found(longer, [1, 1, 0.3333]) == []  # 1/3: one in the last minute of three, known a minute
    assert found(longer, [1, 1, 3.5]) != []
    seen = Inputs([payment(0)], velocity_span_s=5, earlier=[payment(9)])
    assert found(seen, [2]) == [] and found(seen, [0.5]) == [] and found(seen, [3]) != []


def test_a_threshold_record_racing_the_transaction_may_decide_or_not_and_nothing_else():
    inputs = Inputs([payment(0)], thresholds=[ThresholdRecord("acct", 20, at_ms=5)], velocity_span_s=5)
    assert found(inputs, [1]) == []  # the model's: the record came later
    assert found(inputs, [1], threshold=0.2, source="account") == []
    assert found(inputs, [1], threshold=0.3, source="account") != []
