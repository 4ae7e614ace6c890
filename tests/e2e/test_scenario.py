"""A seeded scenario on the real runtime yields exactly the expected alerts: no more, no fewer, no duplicates."""

from __future__ import annotations

import json
import subprocess
import sys

from fraud_simulator.transactions import scenario_transactions
from tests.support.pipeline import expected_alert

SEED, COUNT = 20261127, 300


def test_seeded_scenario_yields_exactly_the_expected_alerts(stack):
    expected = {t.transaction_id for t in scenario_transactions(SEED, COUNT) if expected_alert(t)}
    assert 0 < len(expected) < COUNT // 5  # a meaningful, realistic number of alerts

    result = subprocess.run(
        [sys.executable, "-m", "fraud_simulator", "scenario", "--seed", str(SEED), "--count", str(COUNT),
         "--timeout", "25", "--rate", "200", "--status-interval", "0",
         "--bootstrap-servers", stack.config.bootstrap_servers],
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)

    assert summary["produced"] == COUNT
    assert summary["duplicates"] == [] and summary["unknown"] == []
    assert {alert["transaction_id"] for alert in summary["alerts"]} == expected
