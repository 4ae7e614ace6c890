"""Status line, percentiles and bounded bookkeeping."""

import io

import pytest

from fraud_simulator.metrics import COUNTERS
from fraud_simulator.status import (
    Counters,
    LatencyTracker,
    StatusReporter,
    percentile,
    report_periodically,
)

from .fakes import FakeClock


def test_nearest_rank_percentiles():
    values = list(range(1, 101))
    assert percentile(values, 0.50) == 50
    assert percentile(values, 0.95) == 95
    assert percentile(reversed(values), 0.95) == 95
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.5) is None


def test_latency_is_matched_through_transaction_id():
    tracker = LatencyTracker()
    for i in range(100):
        tracker.produced(f"t{i}", at=float(i))
    for i in range(100):
        assert tracker.alerted(f"t{i}", at=i + (i + 1) / 1000) == pytest.approx((i + 1) / 1000)
    assert tracker.percentile(0.5) == pytest.approx(0.050)
    assert tracker.percentile(0.95) == pytest.approx(0.095)


def test_unknown_missing_and_repeated_ids_are_not_measured():
    tracker = LatencyTracker()
    tracker.produced("t1", at=0.0)
    assert tracker.alerted("nope", at=1.0) is None
    assert tracker.alerted(None, at=1.0) is None
    assert tracker.alerted("t1", at=1.0) == 1.0
    assert tracker.alerted("t1", at=2.0) is None
    assert tracker.percentile(0.5) == 1.0


def test_pending_map_is_bounded_by_size():
    tracker = LatencyTracker(max_pending=1000, ttl=1e9)
    for i in range(50_000):
        tracker.produced(f"t{i}", at=float(i))
    assert len(tracker) == 1000
    assert tracker.alerted("t0", at=1e6) is None  # oldest evicted
    assert tracker.alerted("t49999", at=50_000.0) == 1.0


def test_pending_map_is_bounded_by_age():
    tracker = LatencyTracker(max_pending=10**9, ttl=10.0)
    for i in range(1000):
        tracker.produced(f"t{i}", at=float(i))
    assert len(tracker) == 11  # t989..t999 are within 10 s of t=999


def test_latency_window_is_bounded():
    tracker = LatencyTracker(window=10)
    for i in range(100):
        tracker.produced(f"t{i}", at=0.0)
        tracker.alerted(f"t{i}", at=float(i))
    assert tracker.percentile(0.0) == 90.0  # only the last 10 latencies remain


def test_status_line_shows_rate_alerts_confirmations_and_latency():
    clock = FakeClock(start=0.0)
    counters = Counters()
    latency = LatencyTracker()
    reporter = StatusReporter(counters, latency, clock)
    latency.produced("t", 0.0)
    latency.alerted("t", 0.25)
    counters.produced, counters.alerts, counters.own_alerts, counters.confirmations = 50, 2, 2, 1
    clock.advance(5.0)
    line = reporter.line()
    assert "produced/s=10.0" in line and "produced=50" in line
    assert "alerts=2" in line and "alert_rate=4.00%" in line and "confirmations=1" in line
    assert "earlier_alerts" not in line
    assert "latency_p50=250ms" in line and "latency_p95=250ms" in line
    counters.produced = 60
    clock.advance(10.0)
    assert "produced/s=1.0" in reporter.line()  # measured since the previous line


def test_alerts_for_transactions_this_run_did_not_send_do_not_count_in_the_rate():
    from fraud_simulator.loops import Metrics

    metrics = Metrics(clock=lambda: 1.0)
    metrics.latency.produced("mine", 0.5)
    metrics.counters.produced = 10
    for transaction_id in ("mine", "from-before-a-restart", "another-old-one"):
        metrics.alert_received({"transaction_id": transaction_id})
    line = StatusReporter(metrics.counters, metrics.latency, FakeClock()).line()
    assert "alerts=1 alert_rate=10.00%" in line and "earlier_alerts=2" in line


def test_status_without_data_does_not_divide_by_zero():
    line = StatusReporter(Counters(), LatencyTracker(), FakeClock()).line()
    assert "alert_rate=0.00%" in line and "latency_p50=-" in line


async def test_periodic_reporting_writes_lines_and_zero_interval_is_off():
    clock = FakeClock()
    reporter = StatusReporter(Counters(), LatencyTracker(), clock)
    out = io.StringIO()
    await report_periodically(reporter, 0, out, sleep=clock.sleep)
    assert out.getvalue() == "" and clock.sleeps == []

    calls = 0

    async def sleep(seconds):
        nonlocal calls
        calls += 1
        if calls > 3:
            raise RuntimeError("stop")
        clock.advance(seconds)

    with pytest.raises(RuntimeError):
        await report_periodically(reporter, 5, out, sleep=sleep)
    assert out.getvalue().count("[status]") == 3


def test_every_total_moves_its_prometheus_counter_too():
    from prometheus_client import REGISTRY

    counters = Counters()
    for name in ("produced", "delivery_failures", "alerts", "own_alerts", "malformed_alerts", "confirmations"):
        (family,) = COUNTERS[name].describe()
        metric = family.name  # the exported family name, without _total
        before = REGISTRY.get_sample_value(f"{metric}_total") or 0.0
        counters.add(name, 2)
        assert getattr(counters, name) == 2
        assert REGISTRY.get_sample_value(f"{metric}_total") == before + 2


def test_a_timed_alert_is_observed_in_the_latency_histogram():
    from prometheus_client import REGISTRY

    before = REGISTRY.get_sample_value("fraud_simulator_transaction_to_alert_seconds_count") or 0.0
    tracker = LatencyTracker()
    tracker.produced("tx", 10.0)
    assert tracker.alerted("tx", 10.5) == 0.5
    assert REGISTRY.get_sample_value("fraud_simulator_transaction_to_alert_seconds_count") == before + 1
