"""The live run (produce + alerts + confirmations) driven with fakes and a fake clock."""

import asyncio
import io
import itertools
import json
import random

import pytest

from fraud_common.contract import CONFIRMED_TOPIC, TRANSACTIONS_TOPIC, encode
from fraud_simulator import scenario_transactions
from fraud_simulator.alerts import AlertPrinter, ConfirmationPolicy
from fraud_simulator.loops import Metrics, produce_transactions, run_live
from fraud_simulator.rate_limiter import TokenBucket
from fraud_simulator.status import Counters, LatencyTracker
from fraud_simulator.thresholds import ThresholdPolicy

from .fakes import FakeClock, FakeSink, FakeSource, GatedSource


def _alert_value(t, **extra) -> bytes:
    return encode({**t.to_record(), "transaction_id": t.transaction_id, "score": 0.9, **extra})


class CountingSink(FakeSink):
    """Sets `reached` once `target` transactions were sent."""

    def __init__(self, target: int) -> None:
        super().__init__()
        self.target = target
        self.reached = asyncio.Event()

    async def send(self, topic, key, value):
        await super().send(topic, key, value)
        if len(self.on(TRANSACTIONS_TOPIC)) >= self.target:
            self.reached.set()


def _metrics(clock):
    return Metrics(Counters(), LatencyTracker(), clock)


async def test_produces_prints_measures_and_confirms():
    clock = FakeClock()
    transactions = scenario_transactions(1, 100)
    sink = CountingSink(100)
    alerts = [_alert_value(t) for t in transactions[:40]] + [b"garbage"]
    source = GatedSource(sink.reached, alerts)
    out = io.StringIO()
    metrics = _metrics(clock)

    await run_live(
        transactions,
        sink,
        source,
        TokenBucket(50, 1, clock=clock, sleep=clock.sleep),
        ConfirmationPolicy(1.0, random.Random(1)),
        asyncio.Event(),
        printer=AlertPrinter(out),
        metrics=metrics,
        drain_seconds=30,
    )

    sent = sink.on(TRANSACTIONS_TOPIC)
    assert [k for k, _ in sent] == [t.transaction_id.encode() for t in transactions]
    assert clock.now - 1000.0 == pytest.approx(99 / 50)  # paced by the bucket, on the fake clock
    lines = out.getvalue().splitlines()
    assert len(lines) == 40
    first = transactions[0]
    assert lines[0] == f"Suspected Fraud for account id {first.account} at {first.merchant} for {first.amount} USD"
    assert metrics.counters.alerts == 40 and metrics.counters.malformed_alerts == 1
    confirmed = sink.on(CONFIRMED_TOPIC)
    assert [json.loads(v) for _, v in confirmed] == [{"account": t.account} for t in transactions[:40]]
    assert [k for k, _ in confirmed] == [t.account.encode() for t in transactions[:40]]
    assert metrics.counters.confirmations == 40
    assert metrics.latency.percentile(0.5) is not None  # alerts matched to produce times
    assert sink.flushes >= 1


async def test_zero_share_sends_no_confirmations():
    clock = FakeClock()
    transactions = scenario_transactions(2, 20)
    sink = FakeSink()
    await run_live(
        transactions,
        sink,
        FakeSource([_alert_value(t) for t in transactions]),
        TokenBucket(1000, 1, clock=clock, sleep=clock.sleep),
        ConfirmationPolicy(0.0, random.Random(1)),
        asyncio.Event(),
        printer=AlertPrinter(io.StringIO()),
        metrics=_metrics(clock),
        drain_seconds=30,
    )
    assert sink.on(CONFIRMED_TOPIC) == []
    assert len(sink.on(TRANSACTIONS_TOPIC)) == 20


async def test_stop_event_ends_an_endless_run_and_flushes():
    clock = FakeClock()
    stop = asyncio.Event()

    class StoppingSink(FakeSink):
        async def send(self, topic, key, value):
            await super().send(topic, key, value)
            if len(self.records) == 25:
                stop.set()

    never = asyncio.Event()
    sink = StoppingSink()
    endless = (t for seed in itertools.count() for t in scenario_transactions(seed, 10))
    await run_live(
        endless,
        sink,
        GatedSource(never),
        TokenBucket(1000, 1, clock=clock, sleep=clock.sleep),
        ConfirmationPolicy(0.05, random.Random(1)),
        stop,
        printer=AlertPrinter(io.StringIO()),
        metrics=_metrics(clock),
    )
    assert len(sink.records) == 25  # nothing produced after the stop request
    assert sink.flushes >= 1


async def test_a_failing_consumer_is_reported_not_swallowed():
    clock = FakeClock()

    class BrokenSource(FakeSource):
        async def __aiter__(self):
            raise RuntimeError("consumer broke")
            yield  # pragma: no cover

    endless = (t for seed in itertools.count() for t in scenario_transactions(seed, 10))
    with pytest.raises(RuntimeError, match="consumer broke"):
        await run_live(
            endless,
            FakeSink(),
            BrokenSource(),
            TokenBucket(1000, 1, clock=clock, sleep=clock.sleep),
            ConfirmationPolicy(0.05, random.Random(1)),
            asyncio.Event(),
            printer=AlertPrinter(io.StringIO()),
            metrics=_metrics(clock),
        )


async def test_accounts_now_and_then_set_their_own_threshold():
    sink = FakeSink()
    transactions = scenario_transactions(4, 400)
    metrics = Metrics()
    await produce_transactions(
        transactions, sink, TokenBucket(1e6, 1e6), metrics, asyncio.Event(), ThresholdPolicy(0.05, random.Random(1))
    )
    records = [(key, json.loads(value)) for topic, key, value in sink.records if topic == "thresholds"]
    assert 5 < len(records) < 40 and metrics.counters.thresholds == len(records)
    assert all(key.decode() == value["account"] and 60 <= value["threshold"] <= 95 for key, value in records)
