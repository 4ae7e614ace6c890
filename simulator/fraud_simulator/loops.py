"""The producing and consuming loops, and the orchestration of a live run.

Kept free of aiokafka and of signal handling: the loops see only a
`RecordSink`, a `RecordSource`, a rate limiter and a stop event, so the whole
live run can be exercised in unit tests with fakes and a fake clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from opentelemetry import context as otel_context
from opentelemetry import trace

from fraud_common import tracing
from fraud_common.contract import (
    ALERTS_TOPIC,
    CONFIRMED_TOPIC,
    THRESHOLDS_TOPIC,
    TRANSACTIONS_TOPIC,
    Transaction,
    encode,
)
from fraud_simulator.alerts import AlertPrinter, ConfirmationPolicy
from fraud_simulator.kafka_io import RecordSink, RecordSource
from fraud_simulator.rate_limiter import TokenBucket
from fraud_simulator.status import (
    Counters,
    LatencyTracker,
    StatusReporter,
    report_periodically,
)
from fraud_simulator.thresholds import ThresholdPolicy

TRACER = tracing.tracer("fraud_simulator")


@dataclass
class Metrics:
    """Counters and latency bookkeeping shared by the loops and the status line."""

    counters: Counters = field(default_factory=Counters)
    latency: LatencyTracker = field(default_factory=LatencyTracker)
    clock: Callable[[], float] = time.monotonic

    def alert_received(self, alert: dict[str, Any]) -> None:
        """Count an alert; it is this run's own when it answers a transaction this run sent (and is timed)."""
        trace_alert_receipt(alert)
        self.counters.add("alerts")
        if self.latency.alerted(alert.get("transaction_id"), self.clock()) is not None:
            self.counters.add("own_alerts")


def trace_alert_receipt(alert: dict[str, Any]) -> None:
    """A consumer span for an alert, in the trace of the transaction it answers (when tracing is on)."""
    if not tracing.enabled():
        return
    parent = tracing.context_of(alert.get("traceparent") if isinstance(alert.get("traceparent"), str) else None)
    attributes = {"transaction.id": str(alert.get("transaction_id", "")), "messaging.destination.name": ALERTS_TOPIC}
    with TRACER.start_as_current_span(
        "receive alert", context=parent, kind=trace.SpanKind.CONSUMER, attributes=attributes
    ):
        pass


async def send_transaction(sink: RecordSink, transaction: Transaction) -> None:
    """Send one transaction; with tracing on, it starts its trace and carries the context in the record."""
    if not tracing.enabled():
        key, value = transaction_record(transaction)
        await sink.send(TRANSACTIONS_TOPIC, key, value)
        return
    with TRACER.start_as_current_span(
        "produce transaction",
        kind=trace.SpanKind.PRODUCER,
        context=otel_context.Context(),  # a new trace per transaction
        attributes={"transaction.id": transaction.transaction_id, "messaging.destination.name": TRANSACTIONS_TOPIC},
    ):
        key, value = transaction_record(replace(transaction, traceparent=tracing.current_traceparent()))
        await sink.send(TRANSACTIONS_TOPIC, key, value)


def transaction_record(transaction: Transaction) -> tuple[bytes, bytes]:
    """Kafka key and value of a transaction: id as key, the workshop's four fields (and trace context) as JSON."""
    return transaction.transaction_id.encode("utf-8"), encode(transaction.to_record())


def confirmation_record(account: str) -> tuple[bytes, bytes]:
    """Kafka key and value of a confirmation: account as key, ``{"account": ...}`` as value."""
    return account.encode("utf-8"), encode({"account": account})


async def produce_transactions(
    transactions: Iterable[Transaction],
    sink: RecordSink,
    limiter: TokenBucket,
    metrics: Metrics,
    stop: asyncio.Event,
    thresholds: ThresholdPolicy | None = None,
) -> int:
    """Send transactions at the limiter's pace until exhausted or stopped; returns how many were sent.

    With `thresholds`, now and then an account's holder also sets their own alert threshold.
    """
    sent = 0
    for transaction in transactions:
        if stop.is_set():
            break
        await limiter.acquire()
        if stop.is_set():
            break
        await send_transaction(sink, transaction)
        metrics.latency.produced(transaction.transaction_id, metrics.clock())
        metrics.counters.add("produced")
        sent += 1
        threshold = thresholds.record_for(transaction.account) if thresholds is not None else None
        if threshold is not None:
            await sink.send(THRESHOLDS_TOPIC, *threshold)
            metrics.counters.add("thresholds")
    return sent


async def consume_alerts(
    source: RecordSource,
    printer: AlertPrinter,
    metrics: Metrics,
    policy: ConfirmationPolicy | None = None,
    sink: RecordSink | None = None,
) -> None:
    """Print every alert, measure its latency and send the confirmations the policy picks."""
    async for record in source:
        alert = printer.handle(record.value)
        if alert is None:
            metrics.counters.add("malformed_alerts")
            continue
        metrics.alert_received(alert)
        if policy is None or sink is None:
            continue
        account = policy.decide(alert)
        if account is not None:
            key, value = confirmation_record(account)
            await sink.send(CONFIRMED_TOPIC, key, value)
            metrics.counters.add("confirmations")


async def finish(*tasks: asyncio.Task[object]) -> None:
    """Cancel tasks and wait for them, so nothing outlives the run."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def run_live(
    transactions: Iterable[Transaction],
    sink: RecordSink,
    source: RecordSource,
    limiter: TokenBucket,
    policy: ConfirmationPolicy,
    stop: asyncio.Event,
    *,
    printer: AlertPrinter | None = None,
    metrics: Metrics | None = None,
    status_interval: float = 0.0,
    status_out: TextIO | None = None,
    drain_seconds: float = 5.0,
    thresholds: ThresholdPolicy | None = None,
) -> Metrics:
    """Produce and consume concurrently until `stop` is set or `transactions` run out.

    When the transactions run out (--max-transactions), the producer is
    flushed and alerts are still read for up to `drain_seconds` so that the
    last transactions' alerts are printed. A failing loop is re-raised.
    """
    metrics = metrics or Metrics()
    printer = printer or AlertPrinter()
    producer = asyncio.create_task(produce_transactions(transactions, sink, limiter, metrics, stop, thresholds))
    consumer = asyncio.create_task(consume_alerts(source, printer, metrics, policy, sink))
    reporter = StatusReporter(metrics.counters, metrics.latency, metrics.clock)
    status = asyncio.create_task(report_periodically(reporter, status_interval, status_out or _stderr()))
    stopped = asyncio.create_task(stop.wait())
    watched: set[asyncio.Task[object]] = {producer, consumer, stopped}
    try:
        while True:
            done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopped and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            if stopped in done:
                break
            if producer in done:
                await sink.flush()
                if not consumer.done() and drain_seconds > 0:
                    await asyncio.wait({consumer, stopped}, timeout=drain_seconds, return_when=asyncio.FIRST_COMPLETED)
                break
            watched -= done  # the source ended (only fakes do); keep producing
    finally:
        await finish(producer, consumer, status, stopped)
    await sink.flush()
    return metrics


def _stderr() -> TextIO:
    import sys

    return sys.stderr
