"""A seeded scenario on the real runtime: every transaction decided once, exactly as the model says, alerts to match.

Which transactions alert depends partly on the order in which the runtime sees
one account's transactions (velocity counts them), so the expected outcome is
checked against what each decision records: its features must be the ones the
transaction implies (merchant-service's score, the amount, no confirmed fraud,
a velocity spike no larger than the account's transactions so far), and the
decision must be what the shipped model makes of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

from fraud_simulator.transactions import scenario_transactions
from merchant_service.scoring import risk_score
from tests.support.ledger import LedgerReader
from tests.support.pipeline import shipped_model

SEED, COUNT = 20261127, 300


def test_seeded_scenario_is_decided_exactly_as_the_model_says(stack, kafka):
    transactions = scenario_transactions(SEED, COUNT)
    model = shipped_model()
    reader = LedgerReader(kafka)

    result = subprocess.run(
        [sys.executable, "-m", "fraud_simulator", "scenario", "--seed", str(SEED), "--count", str(COUNT),
         "--timeout", "25", "--rate", "200", "--status-interval", "0",
         "--bootstrap-servers", stack.config.bootstrap_servers],
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    report = reader.collect({t.transaction_id for t in transactions}, timeout=120)

    report.assert_exact()
    per_account = Counter(t.account for t in transactions)
    for transaction in transactions:
        (decision,) = report.decisions[transaction.transaction_id]
        features = decision["features"]
        known = {"fraud_count.count": 0, "merchant.score": risk_score(transaction.merchant),
                 "transaction.amount": transaction.amount}
        implied = {f.name: round(f.value(known[f.source]), 6) for f in model.features if f.source in known}
        assert {name: features[name] for name in implied} == implied
        assert 1 <= features["velocity_spike"] <= min(10, per_account[transaction.account])
        expected = "alert" if model.probability(features) >= decision["threshold"] else "no_alert"
        assert decision["outcome"] == expected, transaction
    alerted = report.alerted
    assert 0 < len(alerted) < COUNT // 2  # a meaningful number of alerts
    assert summary["produced"] == COUNT
    assert summary["duplicates"] == [] and summary["unknown"] == []
    assert {alert["transaction_id"] for alert in summary["alerts"]} == alerted
