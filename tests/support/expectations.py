"""What a seeded scenario's decisions must be, given that velocity depends on arrival order.

Which transactions alert depends partly on the order in which the runtime sees one account's
transactions (velocity counts them), so each decision is held to what it records: its features must be
the ones the transaction implies (merchant-service's score, the amount, no confirmed fraud, a velocity
spike no larger than the account's transactions so far), and its outcome must be what the shipped model
makes of them. The rule of tests/e2e/test_scenario.py, for any suite that runs a scenario.
"""

from __future__ import annotations

from collections import Counter

from fraud_common.contract import Outcome, Transaction
from fraud_common.merchant_risk import risk_score
from fraud_dev.ledger import LedgerReport
from fraud_dev.pipeline import shipped_model


def assert_decided_as_the_model_says(report: LedgerReport, transactions: list[Transaction]) -> None:
    model = shipped_model()
    per_account = Counter(t.account for t in transactions)
    for transaction in transactions:
        (decision,) = report.decisions[transaction.transaction_id]
        features = decision["features"]
        known = {
            "fraud_count.count": 0,
            "merchant.score": risk_score(transaction.merchant),
            "transaction.amount": transaction.amount,
        }
        implied = {f.name: round(f.value(known[f.source]), 6) for f in model.features if f.source in known}
        recorded = {name: features[name] for name in implied}
        assert recorded == implied, f"{transaction}: recorded {recorded}, implied {implied}"
        assert 1 <= features["velocity_spike"] <= min(10, per_account[transaction.account]), transaction
        expected = Outcome.ALERT if model.probability(features) >= decision["threshold"] else Outcome.NO_ALERT
        assert Outcome(decision["outcome"]) is expected, transaction
