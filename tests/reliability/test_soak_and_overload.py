"""A bounded soak at a steady rate, and an overload at three times the rate this machine sustains.

Soak: memory stays flat, nothing is dead-lettered, nothing fails, every
decision is there. Overload: the backlog waits in Kafka as consumer lag (the
runtime bounds its calls in flight, statefun.async.max-per-task), the job never
restarts, and once the rate drops the lag drains and every decision is there.
"""

from __future__ import annotations

import os
import threading
import time

from fraud_common.kafka_security import KafkaConnection
from fraud_dev.ledger import LedgerReader
from fraud_dev.pipeline import consumer_lag, function_metric, job_restarts
from fraud_dev.workload import Stream
from tests.reliability.conftest import record, rss_kib
from tests.reliability.scenario import run_scenario

SOAK_SECONDS = int(os.environ.get("RELIABILITY_SOAK_SECONDS", "300"))
SOAK_RATE = 100
# What these 2-core machines sustain end to end with every process on them (docs/reliability.md).
SUSTAINED_RATE = 150
OVERLOAD_SECONDS = 30
PROCESSES = ("functions", "merchant-service", "statefun-runtime", "kafka")
RUNTIME_GROUP = "fraud-statefun"  # KAFKA_CONSUMER_GROUP's default in the module spec


class BackgroundSampler:
    """Calls `sample()` every `interval` seconds in a thread of its own, while used as a context manager."""

    def __init__(self, interval: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def sample(self) -> None:
        raise NotImplementedError

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.sample()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


class MemorySampler(BackgroundSampler):
    """The resident memory of the stack's processes."""

    def __init__(self, stack, interval: float = 10) -> None:
        super().__init__(interval)
        self.pids = {name: stack.service(name).pid for name in PROCESSES}
        self.samples: list[dict[str, int]] = []

    def sample(self) -> None:
        self.samples.append({name: rss_kib(pid) for name, pid in self.pids.items()})


def test_a_bounded_soak_keeps_memory_flat_and_every_decision(stack, kafka):
    errors_before = function_metric(stack, "fraud_function_errors_total")
    with MemorySampler(stack) as memory:
        report, restarts = run_scenario(
            stack,
            kafka,
            f"soak: {SOAK_SECONDS} s at {SOAK_RATE} tx/s",
            6701,
            SOAK_SECONDS * SOAK_RATE,
            SOAK_RATE,
            record_result=False,
        )
    warm = memory.samples[len(memory.samples) // 3]  # after the JVMs' heaps and caches have grown
    end = memory.samples[-1]
    growth = {name: f"{warm[name] // 1024} -> {end[name] // 1024} MiB" for name in PROCESSES}
    note = "RSS from a third of the way in to the end: " + ", ".join(f"{k} {v}" for k, v in growth.items())
    record(f"soak: {SOAK_SECONDS} s at {SOAK_RATE} tx/s", report, restarts, note)

    report.assert_exact()
    assert restarts == 0 and report.dead_letters == []
    assert function_metric(stack, "fraud_function_errors_total") == errors_before
    for name in PROCESSES:
        assert end[name] <= warm[name] * 1.25 + 32 * 1024, f"{name} grew: {growth[name]}"


class LagWatcher(BackgroundSampler):
    """The largest consumer lag of the runtime's group on `transactions`."""

    def __init__(self, kafka: KafkaConnection, interval: float = 3) -> None:
        super().__init__(interval)
        self.kafka = kafka
        self.peak = 0

    def lag(self) -> int:
        return consumer_lag(self.kafka, RUNTIME_GROUP, "transactions")

    def sample(self) -> None:
        self.peak = max(self.peak, self.lag())


def test_overload_shows_as_lag_not_failure_and_drains(stack, kafka):
    rate, calm_rate = 3 * SUSTAINED_RATE, 50
    connection = stack.config.kafka_connection()
    reader = LedgerReader(kafka)
    job_before, restarts_before = job_restarts(stack)
    overload = Stream.seeded(connection, 6801, OVERLOAD_SECONDS * rate, rate)
    calm = Stream.seeded(connection, 6802, OVERLOAD_SECONDS * calm_rate, calm_rate)
    with LagWatcher(connection) as lag:
        overload.start().join()
        calm.start().join()
        report = reader.collect(overload.ids | calm.ids, timeout=600)
        deadline = time.monotonic() + 60  # offsets are committed at the next checkpoint
        while lag.lag() and time.monotonic() < deadline:
            time.sleep(1)
        drained = lag.lag()
    job_after, restarts_after = job_restarts(stack)
    restarts = restarts_after - restarts_before if job_after == job_before else restarts_after
    record(
        f"overload: {OVERLOAD_SECONDS} s at {rate} tx/s, then {OVERLOAD_SECONDS} s at {calm_rate} tx/s",
        report,
        restarts,
        f"peak consumer lag {lag.peak} records, {drained} after the drain",
    )

    report.assert_exact()
    assert restarts == 0 and job_after == job_before
    assert lag.peak > rate, f"the machine kept up ({lag.peak} records of lag at most): not an overload"
    assert drained == 0
