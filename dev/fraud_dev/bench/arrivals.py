"""When each transaction's decision and alert became visible to a `read_committed` reader, and when it was sent.

Transaction-to-alert latency is measured the way a consumer of `alerts`
experiences it: from the transaction record's Kafka timestamp (set by the
simulator's producer when it sends) to the moment a `read_committed` consumer
in this process receives the alert, which under exactly-once is when the
checkpoint that commits it completes. Decisions (one per transaction) are
timed the same way, so every transaction has a latency, not only the few that alert.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

from fraud_common.contract import ALERTS_TOPIC, DECISIONS_TOPIC, TRANSACTIONS_TOPIC

Offsets = dict[str, dict[int, int]]


@dataclass
class Arrivals:
    """Arrival wall-clock times (ms) of decisions by transaction id, alerts by transaction id, and the outcomes.

    The first arrival of each is timed; every later one of the same id is counted as a duplicate, since a
    rate at which the pipeline decides or alerts twice is not one it keeps up with.
    """

    decisions: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    duplicate_decisions: int = 0
    duplicate_alerts: int = 0


async def _open(bootstrap: str, since: Offsets) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, isolation_level="read_committed", enable_auto_commit=False, fetch_max_wait_ms=50
    )
    await consumer.start()
    partitions = [TopicPartition(topic, partition) for topic, offsets in since.items() for partition in offsets]
    consumer.assign(partitions)
    for tp in partitions:
        consumer.seek(tp, since[tp.topic][tp.partition])
    return consumer


class ArrivalCollector:
    """Reads `decisions` and `alerts` from given offsets on a thread of its own, stamping each record's arrival."""

    def __init__(self, bootstrap: str, since: Offsets) -> None:
        self.bootstrap = bootstrap
        self.since = since
        self.arrivals = Arrivals()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._collect()), name="arrivals", daemon=True)

    def start(self) -> ArrivalCollector:
        self._thread.start()
        return self

    def stop(self) -> Arrivals:
        self._stop.set()
        self._thread.join(30)
        return self.arrivals

    def decided(self) -> int:
        with self._lock:
            return len(self.arrivals.decisions)

    async def _collect(self) -> None:
        consumer = await _open(self.bootstrap, self.since)
        try:
            while not self._stop.is_set():
                batch = await consumer.getmany(timeout_ms=100, max_records=10_000)
                now = int(time.time() * 1000)
                with self._lock:
                    for tp, records in batch.items():
                        for record in records:
                            self.file_record(tp.topic, record.key, record.value, now)
        finally:
            await consumer.stop()

    def file_record(self, topic: str, key: bytes | None, value: bytes | None, now: int) -> None:
        """Note one record of `decisions` or `alerts` that arrived at `now` (ms)."""
        arrivals = self.arrivals
        if topic == DECISIONS_TOPIC and key is not None:
            transaction_id = key.decode(errors="replace")
            if transaction_id in arrivals.decisions:
                arrivals.duplicate_decisions += 1
                return
            arrivals.decisions[transaction_id] = now
            arrivals.outcomes[transaction_id] = json.loads(value or b"{}").get("outcome", "")
        elif topic == ALERTS_TOPIC:
            transaction_id = json.loads(value or b"{}").get("transaction_id")
            if transaction_id in arrivals.alerts:
                arrivals.duplicate_alerts += 1
            elif isinstance(transaction_id, str):
                arrivals.alerts[transaction_id] = now


def sent_times(bootstrap: str, since: dict[int, int], count: int, timeout: float = 60) -> dict[str, int]:
    """The Kafka timestamps (ms) of the `count` transaction records written after `since`, by transaction id."""

    async def read() -> dict[str, int]:
        consumer = await _open(bootstrap, {TRANSACTIONS_TOPIC: since})
        times: dict[str, int] = {}
        deadline = time.monotonic() + timeout
        try:
            while len(times) < count and time.monotonic() < deadline:
                for records in (await consumer.getmany(timeout_ms=500, max_records=10_000)).values():
                    for record in records:
                        if record.key is not None:
                            times.setdefault(record.key.decode(errors="replace"), record.timestamp)
        finally:
            await consumer.stop()
        return times

    return asyncio.run(read())
