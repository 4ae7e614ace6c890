"""Seeded transaction streams for the reliability tests, produced at a steady rate in the background.

A scenario starts a stream, breaks something while it runs, mends it, and then
holds the pipeline to the ledger (dev/fraud_dev/ledger.py). The producer keeps
going through a broker restart: a record whose send fails is sent again (the
pipeline then sees a duplicate id, which it must dead-letter, not decide twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer

from fraud_common.contract import TRANSACTIONS_TOPIC, Transaction
from fraud_common.kafka_security import KafkaConnection
from fraud_dev.pipeline import transaction_record
from fraud_simulator.transactions import scenario_transactions


@dataclass
class Stream:
    """`transactions` sent at `rate` per second from a thread of its own."""

    kafka: KafkaConnection
    transactions: list[Transaction]
    rate: float
    sent: int = 0
    resent: int = 0
    errors: list[str] = field(default_factory=list)
    producing_seconds: float = 0.0  # from the first send to the last record's acknowledgement
    _thread: threading.Thread | None = None

    @classmethod
    def seeded(cls, kafka: KafkaConnection, seed: int, count: int, rate: float) -> Stream:
        return cls(kafka, scenario_transactions(seed, count), rate)

    @property
    def ids(self) -> set[str]:
        return {t.transaction_id for t in self.transactions}

    def start(self) -> Stream:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._produce()), name="stream", daemon=True)
        self._thread.start()
        return self

    def join(self, timeout: float = 600) -> None:
        assert self._thread is not None
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"the stream did not finish in {timeout}s ({self.sent} sent)"
        assert self.sent == len(self.transactions), f"only {self.sent} of {len(self.transactions)} sent: {self.errors}"

    @property
    def seconds(self) -> float:
        return len(self.transactions) / self.rate

    @property
    def achieved_rate(self) -> float:
        """Records per second the producer really delivered (below `rate` when the machine could not keep up)."""
        return self.sent / self.producing_seconds if self.producing_seconds else 0.0

    async def _produce(self) -> None:
        producer = await self._open()
        started = time.monotonic()
        queue = list(self.transactions)
        in_flight: list[tuple[asyncio.Future, Transaction]] = []
        try:
            while queue or in_flight:
                if queue:
                    delay = started + self.sent / self.rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    transaction = queue.pop(0)
                    key, value = transaction_record(transaction)
                    try:
                        in_flight.append((await producer.send(TRANSACTIONS_TOPIC, key=key, value=value), transaction))
                        self.sent += 1
                    except Exception as err:  # noqa: BLE001 - broker away: reconnect, send again
                        queue.insert(0, transaction)
                        producer = await self._reopen(producer, err)
                else:
                    await asyncio.wait([future for future, _ in in_flight])
                failed = [(f, t) for f, t in in_flight if f.done() and (f.cancelled() or f.exception() is not None)]
                in_flight = [(f, t) for f, t in in_flight if not f.done()]
                if failed:
                    # Not delivered: send again (a record that did arrive after all becomes a duplicate id).
                    self.sent -= len(failed)
                    self.resent += len(failed)
                    queue[:0] = [t for _, t in failed]
                    first = failed[0][0]
                    producer = await self._reopen(producer, None if first.cancelled() else first.exception())
        finally:
            self.producing_seconds = time.monotonic() - started
            await self._close(producer)

    async def _reopen(self, producer: AIOKafkaProducer, error: BaseException | None) -> AIOKafkaProducer:
        self.errors.append(f"{type(error).__name__}: {error}")
        await self._close(producer)
        await asyncio.sleep(1)
        return await self._open()

    async def _open(self) -> AIOKafkaProducer:
        while True:
            producer = AIOKafkaProducer(
                **self.kafka.options(), enable_idempotence=True, linger_ms=5, request_timeout_ms=10_000
            )
            try:
                await producer.start()
                return producer
            except Exception as err:  # noqa: BLE001 - broker not back yet
                self.errors.append(f"connect: {err}")
                await self._close(producer)
                await asyncio.sleep(1)

    @staticmethod
    async def _close(producer: AIOKafkaProducer) -> None:
        with contextlib.suppress(Exception):  # closing a producer whose broker is gone
            await producer.stop()
