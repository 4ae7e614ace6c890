"""One reliability scenario: a seeded stream, a fault while it runs, then the ledger and the restart count."""

from __future__ import annotations

import time
from collections.abc import Callable

from fraud_dev.ledger import LedgerReader, LedgerReport
from fraud_dev.pipeline import Kafka, job_restarts
from fraud_dev.stack.stack import LocalStack
from fraud_dev.workload import Stream
from tests.reliability.conftest import record


def run_scenario(
    stack: LocalStack,
    kafka: Kafka,
    name: str,
    seed: int,
    count: int,
    rate: float,
    fault: Callable[[], None] | None = None,
    fault_after: float = 0.3,
    collect_timeout: float = 300,
    note: str = "",
    record_result: bool = True,
) -> tuple[LedgerReport, int]:
    """Stream `count` transactions at `rate`; after `fault_after` of the stream's duration, run `fault`.

    Returns the ledger and the number of job restarts the scenario caused (Flink's numRestarts; a
    runtime JVM started again by the fault is a new job, counted from zero).
    """
    reader = LedgerReader(kafka)
    job_before, restarts_before = job_restarts(stack)
    stream = Stream.seeded(stack.config.bootstrap_servers, seed, count, rate).start()
    if fault is not None:
        time.sleep(stream.seconds * fault_after)
        fault()
    stream.join()
    report = reader.collect(stream.ids, timeout=collect_timeout)
    job_after, restarts_after = job_restarts(stack)
    caused = restarts_after - restarts_before if job_after == job_before else restarts_after
    if stream.resent:
        note = f"{note}; {stream.resent} records sent again by the producer".strip("; ")
    if record_result:
        record(name, report, caused, note)
    return report, caused
