"""merchant-service down, slower than the timeout, and failing half its calls, while transactions flow.

A transient fault degrades (a fallback score, flagged on the decision) or is
retried: it never turns into a dead letter, never a lost decision, never a job
restart.
"""

from __future__ import annotations

import time

import pytest

from fraud_common.contract import Outcome
from tests.reliability import names
from tests.reliability.conftest import set_merchant_faults
from tests.reliability.scenario import run_scenario

RATE, COUNT = 40, 1000  # 25 s of traffic; the fault comes after 5 s and lasts 12 s
HEALTHY = {"error_rate": 0.0, "latency_ms_min": 1, "latency_ms_max": 5}


def down(stack) -> None:
    stack.kill("merchant-service")
    time.sleep(12)
    stack.start_again("merchant-service")


def slow(stack) -> None:
    set_merchant_faults(stack, latency_ms_min=1500, latency_ms_max=2000)  # the client gives up after 0.5 s
    time.sleep(12)
    set_merchant_faults(stack, **HEALTHY)


def failing_half(stack) -> None:
    set_merchant_faults(stack, error_rate=0.5)
    time.sleep(12)
    set_merchant_faults(stack, **HEALTHY)


@pytest.mark.parametrize(
    "fault, name, seed, degrades",
    [
        (down, names.MERCHANT_DOWN, 6201, True),
        (slow, names.MERCHANT_SLOW, 6202, True),
        (failing_half, names.MERCHANT_FAILING, 6203, False),  # three attempts: most lookups get through
    ],
    ids=["down", "slower-than-timeout", "failing-50%"],
)
def test_merchant_service_faults_degrade_but_lose_nothing(stack, kafka, fault, name, seed, degrades):

    report, restarts = run_scenario(
        stack,
        kafka,
        name,
        seed,
        COUNT,
        RATE,
        lambda: fault(stack),
        fault_after=0.2,
        may_degrade=frozenset({"merchant"}),
    )
    report.assert_exact()
    assert restarts == 0
    assert report.outcomes().get(Outcome.DEAD_LETTER, 0) == 0 and report.dead_letters == [], (
        "a transient fault must not become a dead letter"
    )
    if degrades:
        assert report.degraded() > 0, "the fallback score is flagged on the decisions it affected"
