"""Scenario mode end to end, with a fake producer and consumer."""

import asyncio
import json

from fraud_common.contract import CONFIRMED_TOPIC, TRANSACTIONS_TOPIC, encode
from fraud_simulator import scenario_transactions
from fraud_simulator.loops import Metrics, transaction_record
from fraud_simulator.rate_limiter import TokenBucket
from fraud_simulator.scenario import run_scenario, summary_json
from fraud_simulator.status import Counters, LatencyTracker

from .fakes import FakeClock, FakeSink, GatedSource


def _alert(t, score=0.9) -> bytes:
    return encode(
        {
            **t.to_record(),
            "transaction_id": t.transaction_id,
            "score": score,
            "threshold": 0.5,
            "model_version": "v1",
            "reasons": [],
            "degraded": [],
        }
    )


async def _run(transactions, alerts, timeout=30.0):
    clock = FakeClock()
    sink = FakeSink()
    produced = asyncio.Event()

    class Sink(FakeSink):
        async def flush(self):
            await sink.flush()
            produced.set()

        async def send(self, topic, key, value):
            await sink.send(topic, key, value)

    summary = await run_scenario(
        transactions,
        Sink(),
        GatedSource(produced, alerts),
        TokenBucket(100, 1, clock=clock, sleep=clock.sleep),
        timeout,
        asyncio.Event(),
        Metrics(Counters(), LatencyTracker(), clock),
    )
    return summary, sink


async def test_summary_lists_alerts_duplicates_and_unknown_ids():
    transactions = scenario_transactions(9, 30)
    stranger = scenario_transactions(10, 1)[0]
    alerts = [
        _alert(transactions[7], 0.8),
        _alert(transactions[2], 0.7),
        _alert(transactions[7], 0.8),  # redelivered
        _alert(stranger),
        encode({"account": "0x1", "merchant": "M", "amount": 3}),  # no transaction_id
        b"{broken",
    ]
    summary, sink = await _run(transactions, alerts)

    assert summary["produced"] == 30
    assert summary["alerts"] == [
        {
            "transaction_id": t.transaction_id,
            "account": t.account,
            "merchant": t.merchant,
            "amount": t.amount,
            "score": s,
        }
        for t, s in ((transactions[2], 0.7), (transactions[7], 0.8))  # scenario order
    ]
    assert summary["duplicates"] == [transactions[7].transaction_id]
    assert [u["transaction_id"] for u in summary["unknown"]] == [stranger.transaction_id, None]
    assert summary["malformed"] == 1
    # Exactly the scenario's records were produced, and no confirmations.
    assert [(k, v) for k, v in sink.on(TRANSACTIONS_TOPIC)] == [transaction_record(t) for t in transactions]
    assert sink.on(CONFIRMED_TOPIC) == []


async def test_clean_run_has_no_duplicates_or_unknown_and_prints_one_json_object():
    transactions = scenario_transactions(1, 10)
    summary, _ = await _run(transactions, [_alert(transactions[0])])
    assert summary["duplicates"] == [] and summary["unknown"] == []
    text = summary_json(summary)
    assert "\n" not in text and json.loads(text) == summary


async def test_collection_stops_at_the_timeout_even_if_alerts_never_end():
    transactions = scenario_transactions(1, 5)
    never = asyncio.Event()
    clock = FakeClock()
    summary = await run_scenario(
        transactions,
        FakeSink(),
        GatedSource(never, [_alert(transactions[0])]),
        TokenBucket(100, 1, clock=clock, sleep=clock.sleep),
        0.0,
        asyncio.Event(),
        Metrics(Counters(), LatencyTracker(), clock),
    )
    assert summary["produced"] == 5 and summary["alerts"] == []
