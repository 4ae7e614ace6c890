"""Processes killed mid-stream: the function server, the StateFun JVM, the Kafka broker.

Each time, every transaction still gets exactly one decision, alerts are
neither lost nor duplicated (read_committed), and the job restarts only as
often as the fault forces it to.
"""

from __future__ import annotations

import time

from tests.reliability.scenario import run_scenario

RATE, COUNT = 50, 1500  # 30 s of traffic; the fault comes after 10 s


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
        stack, kafka, "kill -9 function server, restart after 3 s", 6101, COUNT, RATE, crash(stack, "functions", 3)
    )
    report.assert_exact()
    assert restarts == 0


def test_kill_9_of_the_statefun_jvm_then_restore(stack, kafka):
    report, restarts = run_scenario(
        stack,
        kafka,
        "kill -9 StateFun JVM, restore from checkpoint",
        6102,
        COUNT,
        RATE,
        crash(stack, "statefun-runtime", 2),
        note="new JVM restored from the last checkpoint",
    )
    report.assert_exact()
    assert restarts == 0


def test_restart_of_the_kafka_broker_mid_stream(stack, kafka):
    report, restarts = run_scenario(
        stack, kafka, "kill -9 Kafka broker, restart after 3 s", 6103, COUNT, RATE, crash(stack, "kafka", 3)
    )
    report.assert_exact()
    # The job's Kafka clients lose their broker; they retry (no restart was seen in any run), and if Flink
    # did restart the job, the exponential-delay strategy always brings it back. A few restarts would be
    # tolerable; a loop would not.
    assert restarts <= 3
