"""The simulator starts each transaction's trace and closes it with the alert it reads."""

from __future__ import annotations

import json

from fraud_common.contract import Transaction, parse_transaction
from fraud_simulator.loops import send_transaction, trace_alert_receipt
from tests.unit.spans import named

from .fakes import FakeSink

TRANSACTION = Transaction("tx-1", "0x00F3CD51", "Hypergrid", 36, "2026-11-28T10:00:00")


async def test_each_transaction_starts_a_trace_and_carries_it_in_the_record(spans):
    sink = FakeSink()
    await send_transaction(sink, TRANSACTION)
    await send_transaction(sink, TRANSACTION)
    first, second = named(spans.get_finished_spans(), "produce transaction")
    assert first.parent is None and first.context.trace_id != second.context.trace_id
    assert first.attributes["transaction.id"] == "tx-1"
    _, key, value = sink.records[0]
    carried = parse_transaction(key.decode(), value).traceparent
    assert carried.split("-")[1:3] == [format(first.context.trace_id, "032x"), format(first.context.span_id, "016x")]


async def test_without_tracing_the_record_is_the_workshops_four_fields():
    sink = FakeSink()
    await send_transaction(sink, TRANSACTION)
    assert list(json.loads(sink.records[0][2])) == ["account", "merchant", "amount", "timestamp"]


def test_an_alert_is_received_in_the_trace_it_carries(spans):
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    trace_alert_receipt({"transaction_id": "tx-1", "traceparent": traceparent})
    trace_alert_receipt({"transaction_id": "tx-2"})  # an alert from a pipeline without tracing: a trace of its own
    carried, alone = named(spans.get_finished_spans(), "receive alert")
    assert format(carried.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert format(carried.parent.span_id, "016x") == "b7ad6b7169203331"
    assert alone.parent is None
