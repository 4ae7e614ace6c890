"""A seeded scenario on the real runtime: every transaction decided once, exactly as the model says, alerts to match.

Each decision is held to what tests/support/oracle.py derives from the scenario's transactions alone (velocity,
which counts an account's payments in the order the runtime sees them, to each position once).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from fraud_dev.ledger import LedgerReader
from fraud_simulator.transactions import scenario_transactions
from tests.e2e import seeds
from tests.support.oracle import Inputs, assert_decided_as_the_inputs_say

SEED, COUNT = seeds.SCENARIO, 300


def test_seeded_scenario_is_decided_exactly_as_the_model_says(stack, kafka):
    transactions = scenario_transactions(SEED, COUNT)
    reader = LedgerReader(kafka)
    started = time.monotonic()

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fraud_simulator",
            "scenario",
            "--seed",
            str(SEED),
            "--count",
            str(COUNT),
            "--timeout",
            "25",
            "--rate",
            "200",
            "--status-interval",
            "0",
            "--bootstrap-servers",
            stack.config.bootstrap_servers,
        ],
        # The simulator as itself: its own SCRAM user, which may write the inputs and read alerts, nothing else.
        env={**os.environ, **stack.config.kafka_env("simulator")},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    report = reader.collect({t.transaction_id for t in transactions}, timeout=120)

    report.assert_exact()
    assert_decided_as_the_inputs_say(report, Inputs(transactions, velocity_span_s=time.monotonic() - started))
    alerted = report.alerted
    assert 0 < len(alerted) < COUNT // 2  # a meaningful number of alerts
    assert summary["produced"] == COUNT
    assert summary["duplicates"] == [] and summary["unknown"] == []
    assert {alert["transaction_id"] for alert in summary["alerts"]} == alerted
