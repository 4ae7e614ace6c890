"""Processes killed mid-stream: the function server, the StateFun JVM, the Kafka broker.

Each time, every transaction still gets exactly one decision, alerts are
neither lost nor duplicated (read_committed), and the job restarts only as
often as the fault forces it to. The new StateFun JVM must have restored the
newest checkpoint the killed one completed (Flink's REST API names it).
"""

from __future__ import annotations

import time
from typing import Any

from fraud_dev.pipeline import flink, running_job
from tests.reliability import names
from tests.reliability.conftest import record
from tests.reliability.scenario import run_scenario

RATE, COUNT = 50, 1500  # 30 s of traffic; the fault comes after 10 s
# A process away for seconds may keep any lookup from answering by the decision deadline.
LOOKUPS = frozenset({"fraud_count", "merchant", "velocity", "threshold"})


def crash(stack, name: str, down_seconds: float):
    """kill -9 one process, leave it down a while, start it again (the runtime restores its checkpoint)."""

    def fault() -> None:
        stack.kill(name)
        time.sleep(down_seconds)
        stack.start_again(name)

    return fault


def test_kill_9_of_the_function_server_mid_stream(stack, kafka):
    # The runtime retries its calls meanwhile (call timeout 1 min).
    report, restarts = run_scenario(
        stack, kafka, names.FUNCTION_SERVER_KILL, 6101, COUNT, RATE, crash(stack, "functions", 3), may_degrade=LOOKUPS
    )
    report.assert_exact()
    assert restarts == 0


def checkpoints(stack) -> tuple[str, dict[str, Any]]:
    """The running job and its checkpoint statistics (the `latest` completed and restored ones among them)."""
    job = running_job(stack)
    return job, flink(stack, f"/jobs/{job}/checkpoints")


def test_kill_9_of_the_statefun_jvm_then_restore(stack, kafka):
    before: dict[str, Any] = {}

    def kill_after_a_checkpoint() -> None:
        job, stats = checkpoints(stack)
        before.update(job=job, completed=stats["latest"]["completed"])
        crash(stack, "statefun-runtime", 2)()

    report, restarts = run_scenario(
        stack,
        kafka,
        names.STATEFUN_JVM_KILL,
        6102,
        COUNT,
        RATE,
        kill_after_a_checkpoint,
        record_result=False,
        may_degrade=LOOKUPS,
    )
    job, stats = checkpoints(stack)
    restored = stats["latest"]["restored"]
    assert before["completed"] is not None, "no checkpoint had completed before the kill"
    assert job != before["job"] and restored is not None, "the new JVM's job restored nothing"
    # The newest retained checkpoint of the killed job: the one seen before the kill, or one completed after it.
    assert f"/{before['job']}/chk-" in restored["external_path"], restored
    # (Flink calls it a savepoint: the launcher hands the checkpoint over as execution.savepoint.path.)
    assert restored["id"] >= before["completed"]["id"], (restored, before)
    note = (
        f"the new JVM restored checkpoint {restored['id']} of the killed job ({before['completed']['id']} seen before)"
    )
    record(names.STATEFUN_JVM_KILL, report, restarts, note)
    report.assert_exact()
    assert restarts == 0


def test_restart_of_the_kafka_broker_mid_stream(stack, kafka):
    report, restarts = run_scenario(
        stack, kafka, names.KAFKA_BROKER_KILL, 6103, COUNT, RATE, crash(stack, "kafka", 3), may_degrade=LOOKUPS
    )
    report.assert_exact()
    # The job's Kafka clients lose their broker; they retry (no restart was seen in any run), and if Flink
    # did restart the job, the exponential-delay strategy always brings it back. A few restarts would be
    # tolerable; a loop would not.
    assert restarts <= 3
