"""One local stack with the telemetry beside it (Prometheus scraping every target, the collector, Jaeger),
driven through a seeded scenario that gives every dashboard panel something to show.

The scenario, about two minutes: the simulator at 10 transactions/s, a challenger model in shadow
(tests/support/challenger.py), half the alerted accounts confirmed (fraud counts, `confirmed`), a poison
record on `transactions` (dead letters), and merchant-service failing every call for 25 s through its admin
endpoint (retries, fallbacks, degraded decisions, 503s). The suite's real-stack tests then read what
Prometheus and Jaeger hold.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from fraud_dev.pipeline import Kafka
from fraud_dev.stack.config import Ports, StackConfig
from fraud_dev.stack.private import FAST_MERCHANT_SERVICE
from fraud_dev.stack.stack import LocalStack
from tests.observability.signals import Prometheus
from tests.reliability.conftest import set_merchant_faults
from tests.support import challenger

SIMULATOR_ARGS = [
    "run",
    "--rate",
    "10",
    "--seed",
    "11",
    "--confirm-share",
    "0.5",
    "--confirm-cooldown",
    "0",
    "--status-interval",
    "0",
]
POISON = (b"obs-poison-1", b'{"transaction_id": "obs-poison-1", "amount": "not a number"')
FAULT_SECONDS = 25


@dataclass
class Scenario:
    stack: LocalStack
    prometheus: Prometheus
    started: float  # when traffic began (epoch seconds): the window the panels are asked about
    ended: float


def wait_until(prometheus: Prometheus, expr: str, at_least: float, timeout: float) -> None:
    """Wait until an instant query's first value reaches `at_least` (Prometheus scrapes every 5 s)."""
    deadline = time.monotonic() + timeout
    while True:
        result = prometheus.get("query", query=expr)["result"]
        if result and float(result[0]["value"][1]) >= at_least:
            return
        assert time.monotonic() < deadline, f"{expr} did not reach {at_least} in {timeout}s (last: {result})"
        time.sleep(2)


@pytest.fixture(scope="session")
def scenario(tmp_path_factory) -> Iterator[Scenario]:
    run_dir = tmp_path_factory.mktemp("observability")
    # A challenger in shadow, so the panels comparing model versions have two to compare.
    shadow = challenger.write(run_dir / "challenger.json")
    config = StackConfig(
        run_dir=run_dir,
        ports=Ports.free(),
        service_env={**FAST_MERCHANT_SERVICE, "CHALLENGER_MODEL_PATH": str(shadow)},
        observability=True,
    )
    with LocalStack(config, simulator_args=SIMULATOR_ARGS) as stack:
        prometheus = Prometheus(config.ports.prometheus)
        started = time.time()
        wait_until(prometheus, "sum(fraud_decisions_total)", 100, timeout=120)
        Kafka(config.kafka_connection()).produce("transactions", [POISON])
        set_merchant_faults(stack, error_rate=1.0)
        time.sleep(FAULT_SECONDS)
        set_merchant_faults(stack, error_rate=0.0)
        wait_until(prometheus, "sum(fraud_dead_letters_total)", 1, timeout=60)
        wait_until(prometheus, "sum(fraud_simulator_confirmations_sent_total)", 1, timeout=120)
        time.sleep(30)  # healthy traffic again, and the scrapes of the end of the fault
        yield Scenario(stack, prometheus, started, time.time())
