"""One reliability scenario: a seeded stream, a fault while it runs, then the ledger, the oracle and the restart count.

Every scenario's transactions go to one stack, one after another: velocity remembers an account's payments for an
hour, so each scenario tells the oracle what the scenarios before it sent (`HANDLED`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from fraud_common.contract import Transaction
from fraud_dev.ledger import LedgerReader, LedgerReport
from fraud_dev.pipeline import Kafka, job_restarts
from fraud_dev.stack.stack import LocalStack
from fraud_dev.workload import Stream
from tests.reliability.conftest import record
from tests.support.oracle import Inputs, assert_decided_as_the_inputs_say

HANDLED: list[Transaction] = []  # every transaction the scenarios have sent to the stack, in order


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
    may_degrade: frozenset[str] = frozenset(),
) -> tuple[LedgerReport, int]:
    """Stream `count` transactions at `rate`; after `fault_after` of the stream's duration, run `fault`.

    Returns the ledger and the number of job restarts the scenario caused (Flink's numRestarts; a
    runtime JVM started again by the fault is a new job, counted from zero). Each decision is held to the
    oracle, the lookups in `may_degrade` allowed their fallbacks.
    """
    reader = LedgerReader(kafka)
    job_before, restarts_before = job_restarts(stack)
    started = time.monotonic()
    stream = Stream.seeded(stack.config.kafka_connection(), seed, count, rate).start()
    if fault is not None:
        time.sleep(stream.seconds * fault_after)
        fault()
    stream.join()
    report = reader.collect(stream.ids, timeout=collect_timeout)
    inputs = Inputs(stream.transactions, velocity_span_s=time.monotonic() - started, may_degrade=may_degrade)
    held_to_the_oracle(report, inputs)
    job_after, restarts_after = job_restarts(stack)
    caused = restarts_after - restarts_before if job_after == job_before else restarts_after
    if stream.resent:
        note = f"{note}; {stream.resent} records sent again by the producer".strip("; ")
    if record_result:
        record(name, report, caused, note)
    return report, caused


def held_to_the_oracle(report: LedgerReport, inputs: Inputs) -> None:
    """The oracle on every transaction, knowing what the scenarios before sent; then these count as sent too."""
    try:
        assert_decided_as_the_inputs_say(report, replace(inputs, earlier=tuple(HANDLED)))
    finally:
        HANDLED.extend(inputs.transactions)
