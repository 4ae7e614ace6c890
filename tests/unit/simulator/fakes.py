"""In-memory stand-ins for Kafka and time, so simulator tests never sleep or need a broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

from fraud_simulator.kafka_io import ConsumedRecord


class FakeClock:
    """A clock that only moves when `sleep` is awaited (or `advance` is called)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # still yield to other tasks, as a real sleep would


class FakeSink:
    """Collects sent records; counts flushes and closes."""

    def __init__(self) -> None:
        self.records: list[tuple[str, bytes, bytes]] = []
        self.flushes = 0
        self.closed = False

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        self.records.append((topic, key, value))

    async def flush(self) -> None:
        self.flushes += 1

    async def close(self) -> None:
        self.closed = True

    def on(self, topic: str) -> list[tuple[bytes, bytes]]:
        return [(key, value) for t, key, value in self.records if t == topic]


class FakeSource:
    """Yields the given values (yielding control between them), then ends."""

    def __init__(self, values: Iterable[bytes | None] = ()) -> None:
        self.values = list(values)
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[ConsumedRecord]:
        for value in self.values:
            await asyncio.sleep(0)
            yield ConsumedRecord(key=None, value=value)

    async def close(self) -> None:
        self.closed = True


class GatedSource(FakeSource):
    """Yields its values only after `gate` is set, e.g. once everything was produced."""

    def __init__(self, gate: asyncio.Event, values: Iterable[bytes | None] = ()) -> None:
        super().__init__(values)
        self.gate = gate

    async def __aiter__(self) -> AsyncIterator[ConsumedRecord]:
        await self.gate.wait()
        async for record in super().__aiter__():
            yield record
