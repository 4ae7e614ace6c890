"""Thin aiokafka wrappers behind two small Protocols.

Everything else in the simulator talks to `RecordSink` and `RecordSource`, so
unit tests drive it with in-memory fakes and only this module needs a broker.
Start-up retries with backoff because in docker-compose/Kubernetes the
simulator routinely starts before Kafka is ready; that is not a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TextIO, TypeVar

from fraud_common.contract import ALERTS_TOPIC
from fraud_common.kafka import stop_consumer, topic_partitions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsumedRecord:
    """The parts of a Kafka record the simulator reads."""

    key: bytes | None
    value: bytes | None


class RecordSink(Protocol):
    """Where records go (a Kafka producer in production, a list in tests)."""

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        """Queue one record; delivery failures are reported, not raised here."""

    async def flush(self) -> None:
        """Wait until every queued record is delivered (or has failed)."""

    async def close(self) -> None:
        """Flush and release the connection."""


class RecordSource(Protocol):
    """Where alerts come from; iteration ends only when the source is exhausted (fakes) or cancelled."""

    def __aiter__(self) -> AsyncIterator[ConsumedRecord]: ...

    async def close(self) -> None:
        """Release the connection (and leave the consumer group)."""


class KafkaUnavailable(RuntimeError):
    """Kafka was not reached: not within the connect timeout, or a stop request came first."""


class ProducerSink:
    """RecordSink on an AIOKafkaProducer; counts failed deliveries instead of awaiting each one."""

    def __init__(self, producer: Any) -> None:
        self.producer = producer
        self.delivery_failures = 0
        # Set by the CLI so failures also show on the status line.
        self.counters: Any = None

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        future = await self.producer.send(topic, value=value, key=key)
        future.add_done_callback(self._delivered)

    def _delivered(self, future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and future.exception() is None:
            return
        self.delivery_failures += 1
        if self.counters is not None:
            self.counters.add("delivery_failures")
        if not future.cancelled():
            log.warning("record not delivered", extra={"error": str(future.exception())})

    async def flush(self) -> None:
        await self.producer.flush()

    async def close(self) -> None:
        """Flush and disconnect."""
        await self.producer.stop()


class ConsumerSource:
    """RecordSource on an AIOKafkaConsumer."""

    def __init__(self, consumer: Any) -> None:
        self.consumer = consumer

    async def __aiter__(self) -> AsyncIterator[ConsumedRecord]:
        async for message in self.consumer:
            yield ConsumedRecord(key=message.key, value=message.value)

    async def close(self) -> None:
        await stop_consumer(self.consumer)


T = TypeVar("T")


async def connect_with_retry(
    connect: Callable[[], Awaitable[T]],
    what: str,
    timeout: float,
    *,
    stop: asyncio.Event | None = None,
    err: TextIO | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    initial_backoff: float = 0.5,
    max_backoff: float = 10.0,
) -> T:
    """Call `connect` until it succeeds.

    Each failure prints one clear line on stderr. It gives up with KafkaUnavailable
    (the CLI turns that into a message and a non-zero exit code) after `timeout`
    seconds, or at once when `stop` is set before a connection is made: the
    simulator then did nothing it was asked to, which is not a success.
    """
    deadline = clock() + timeout
    backoff = initial_backoff
    attempt = 0
    while True:
        if stop is not None and stop.is_set():
            raise KafkaUnavailable(f"{what}: stopped before Kafka was reached ({attempt} attempts)")
        attempt += 1
        try:
            return await connect()
        except Exception as error:  # noqa: BLE001 - aiokafka raises several types for "no broker"
            remaining = deadline - clock()
            if remaining <= 0:
                raise KafkaUnavailable(f"{what}: Kafka not reachable after {attempt} attempts: {error}") from None
            delay = min(backoff, max_backoff, remaining)
            print(
                f"fraud-simulator: {what}: Kafka not reachable ({error}); retrying in {delay:.1f}s",
                file=err or sys.stderr,
                flush=True,
            )
            await sleep(delay)
            backoff *= 2


async def open_producer(bootstrap_servers: str) -> ProducerSink:
    """An idempotent producer (acks=all), started; one attempt, use with connect_with_retry."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        enable_idempotence=True,
        acks="all",
        client_id="fraud-simulator",
    )
    try:
        await producer.start()
    except BaseException:
        await _quietly(producer.stop())
        raise
    return ProducerSink(producer)


async def open_alert_consumer(bootstrap_servers: str, group: str) -> ConsumerSource:
    """A group consumer of `alerts` from the earliest offset, committed records only."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        ALERTS_TOPIC,
        bootstrap_servers=bootstrap_servers,
        group_id=group,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        enable_auto_commit=True,
        client_id="fraud-simulator",
    )
    try:
        await consumer.start()
    except BaseException:
        await _quietly(stop_consumer(consumer))
        raise
    return ConsumerSource(consumer)


async def open_alert_consumer_at_end(bootstrap_servers: str, topic: str = ALERTS_TOPIC) -> ConsumerSource:
    """A group-less consumer positioned at the current end of `topic` (default `alerts`).

    Scenario and smoke mode must see only the records their own transactions cause,
    so they pin the end offsets *before* producing instead of reading old history.
    """
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="latest",
        isolation_level="read_committed",
        client_id="fraud-simulator-scenario",
    )
    try:
        await consumer.start()
        try:
            assigned = await topic_partitions(bootstrap_servers, topic)
        except LookupError as err:
            raise RuntimeError(f"{err} yet") from None
        consumer.assign(assigned)
        await consumer.seek_to_end(*assigned)
        for partition in assigned:
            await consumer.position(partition)  # resolves the end offset now
    except BaseException:
        await _quietly(stop_consumer(consumer))
        raise
    return ConsumerSource(consumer)


async def _quietly(closing: Awaitable[object]) -> None:
    with contextlib.suppress(Exception):  # already failing; the original error is the one to report
        await closing
