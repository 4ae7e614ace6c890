"""End to end on the local stack: the simulator's scenario mode at increasing rates, until the latency knee.

For each configuration a private local stack starts (real Kafka, the real
StateFun runtime, the function server, merchant-service answering at once; no
telemetry stack), and for each rate the simulator produces `seconds` worth of a
seeded scenario while this process times every decision and alert as a
`read_committed` consumer sees it (dev/fraud_dev/bench/arrivals.py) and samples CPU per
process and the runtime JVM's threads (dev/fraud_dev/bench/sampler.py).

The pipeline keeps up with a rate when every transaction is decided, every
`alert` decision has its alert, and the last third of the run is decided about
as fast as the first (no growing backlog); a rate is sustained when it keeps up
and the p99 transaction-to-alert latency is within a second. The ladder of a
configuration stops at the first rate at or above 500 tx/s it does not keep up
with (so 500 tx/s, the headline `e2e_p99_ms`, is always measured); a rate that
falls behind is given time to drain before the next one starts.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from fraud_common.contract import ALERTS_TOPIC, DECISIONS_TOPIC, TRANSACTIONS_TOPIC, Outcome
from fraud_dev import module_spec
from fraud_dev.bench.arrivals import ArrivalCollector, Arrivals, sent_times
from fraud_dev.bench.sampler import Sampler
from fraud_dev.pipeline import (
    Kafka,
    consumer_lag,
    flink,
    function_metric,
    job_restarts,
    running_job,
)
from fraud_dev.stack.private import private_stack
from fraud_dev.stack.stack import LocalStack

RATES = (100, 200, 300, 400, 500, 700, 1000)
HEADLINE_RATE = 500
WARM_UP_RATE, WARM_UP_SECONDS = 100, 30
LATENCY_TARGET_MS = 1000
# merchant-service answers at once: the benchmark measures the pipeline, not a simulated dependency.
INSTANT_MERCHANT_SERVICE = {"MERCHANT_LATENCY_MS_MIN": "0", "MERCHANT_LATENCY_MS_MAX": "0"}


@dataclass(frozen=True)
class Configuration:
    name: str
    guarantee: str
    # Whether alerts keep the exactly-once guarantee; only such configurations count for `e2e_tps`.
    exactly_once: bool
    service_env: dict[str, str] = field(default_factory=dict)
    runtime_properties: dict[str, str] = field(default_factory=dict)


CONFIGURATIONS = (
    Configuration("default", "exactly-once alerts, 5 s checkpoints, RocksDB (runtime/conf/flink-conf.yaml)", True),
    Configuration(
        "heap state",
        "exactly-once alerts, 5 s checkpoints, state on the JVM heap (hashmap backend)",
        True,
        runtime_properties={"state.backend": "hashmap"},
    ),
    Configuration(
        "heap state, 500 ms checkpoints",
        "exactly-once alerts, a checkpoint every 500 ms, heap state",
        True,
        runtime_properties={
            "state.backend": "hashmap",
            "execution.checkpointing.interval": "500ms",
            "execution.checkpointing.min-pause": "100ms",
        },
    ),
    Configuration(
        "at-least-once alerts",
        "alerts written at once, outside Kafka transactions "
        "(ALERTS_DELIVERY=at-least-once; decisions stay exactly-once), heap state",
        False,
        service_env={"ALERTS_DELIVERY": "at-least-once"},
        runtime_properties={"state.backend": "hashmap"},
    ),
)


def percentile(values: list[int], share: float) -> int | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def latencies(arrivals: dict[str, int], sent: dict[str, int]) -> dict[str, int | None]:
    values = [arrival - sent[transaction_id] for transaction_id, arrival in arrivals.items() if transaction_id in sent]
    return {
        "count": len(values),
        "p50_ms": percentile(values, 0.5),
        "p99_ms": percentile(values, 0.99),
        "p999_ms": percentile(values, 0.999),
        "max_ms": max(values, default=None),
    }


def offsets(kafka: Kafka, *topics: str) -> dict[str, dict[int, int]]:
    return {topic: kafka.end_offsets(topic) for topic in topics}


def checkpoints(stack: LocalStack) -> dict[str, float | int | None]:
    """The latest completed checkpoint's size and duration, and the average duration so far (Flink REST)."""
    stats = flink(stack, f"/jobs/{running_job(stack)}/checkpoints")
    latest = (stats.get("latest") or {}).get("completed") or {}
    summary = stats.get("summary", {}).get("end_to_end_duration", {})
    return {
        "completed": stats["counts"]["completed"],
        "failed": stats["counts"]["failed"],
        "latest_state_size_bytes": latest.get("state_size"),
        "latest_checkpointed_size_bytes": latest.get("checkpointed_size"),
        "latest_duration_ms": latest.get("end_to_end_duration"),
        "average_duration_ms": summary.get("avg"),
    }


def simulate(stack: LocalStack, seed: int, rate: int, seconds: int, drain: int) -> subprocess.Popen:
    """The simulator's scenario mode producing rate x seconds transactions at `rate` per second."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fraud_simulator",
            "scenario",
            "--seed",
            str(seed),
            "--count",
            str(rate * seconds),
            "--rate",
            str(rate),
            "--timeout",
            str(drain),
            "--status-interval",
            "0",
            "--bootstrap-servers",
            stack.config.bootstrap_servers,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**stack.service_env(), "LOG_LEVEL": "WARNING"},
    )


def run_rate(stack: LocalStack, kafka: Kafka, seed: int, rate: int, seconds: int, drain: int) -> dict:
    """One rate: produce, time every decision and alert, sample CPU during the load, judge."""
    since = offsets(kafka, TRANSACTIONS_TOPIC, DECISIONS_TOPIC, ALERTS_TOPIC)
    restarts_before = job_restarts(stack)[1]
    requests_before, messages_before = served(stack)
    collector = ArrivalCollector(
        stack.config.bootstrap_servers, {DECISIONS_TOPIC: since[DECISIONS_TOPIC], ALERTS_TOPIC: since[ALERTS_TOPIC]}
    ).start()
    simulator = simulate(stack, seed, rate, seconds, drain)
    pids = {service.name: service.pid for service in stack.services if service.pid is not None}
    sampler = Sampler(
        {**pids, "simulator": simulator.pid, "benchmark (alert reader)": os.getpid()}, threads_of="statefun-runtime"
    )
    sampler.start()
    load: dict = {}
    timer = threading.Timer(seconds, lambda: load.update(sampler.stop()))
    timer.start()
    count = rate * seconds
    summary = json.loads(simulator.communicate()[0].strip().splitlines()[-1])
    timer.join()
    deadline = time.monotonic() + drain
    while collector.decided() < count and time.monotonic() < deadline:
        time.sleep(0.5)
    arrivals = collector.stop()
    sent = sent_times(stack.config.bootstrap_servers, since[TRANSACTIONS_TOPIC], count)
    result = judge(
        rate, count, summary, sent, arrivals, load, checkpoints(stack), job_restarts(stack)[1] - restarts_before
    )
    requests, messages = (
        after - before for after, before in zip(served(stack), (requests_before, messages_before), strict=True)
    )
    result["requests_per_transaction"] = round(requests / count, 2)
    result["messages_per_request"] = round(messages / requests, 2) if requests else None
    return result


def served(stack: LocalStack) -> tuple[float, float]:
    """Requests the function server has answered and the messages they carried, so far (its /metrics)."""
    return (
        function_metric(stack, "fraud_function_request_seconds_count"),
        function_metric(stack, "fraud_function_messages_total"),
    )


def keeps_up(decided: dict[str, int], sent: dict[str, int]) -> bool:
    """Whether the pipeline kept pace: the last third of the run's transactions were decided about as fast
    as the first third (median within 2 s), rather than waiting behind a growing backlog."""
    order = sorted((time_sent, tid) for tid, time_sent in sent.items())
    third = len(order) // 3

    def median_latency(part: list[tuple[int, str]]) -> int | None:
        return percentile([decided[tid] - at for at, tid in part if tid in decided], 0.5)

    first, last = median_latency(order[:third]), median_latency(order[-third:])
    return first is not None and last is not None and last <= first + 2000


def judge(
    rate: int,
    count: int,
    summary: dict,
    sent: dict[str, int],
    arrivals: Arrivals,
    load: dict,
    checkpoint: dict,
    restarts: int,
) -> dict:
    alerted = {tid for tid, outcome in arrivals.outcomes.items() if outcome == Outcome.ALERT}
    missing_alerts = len(alerted - arrivals.alerts.keys())
    alert_latency = latencies(arrivals.alerts, sent)
    duplicate_alerts = arrivals.duplicate_alerts + len(summary["duplicates"])
    exact = missing_alerts == 0 and arrivals.duplicate_decisions == 0 and duplicate_alerts == 0
    complete = summary["produced"] == count and len(arrivals.decisions) >= count and exact
    kept_up = complete and keeps_up(arrivals.decisions, sent)
    sustained = kept_up and alert_latency["p99_ms"] is not None and alert_latency["p99_ms"] <= LATENCY_TARGET_MS
    return {
        "rate": rate,
        "produced": summary["produced"],
        "decided": len(arrivals.decisions),
        "alerts": len(arrivals.alerts),
        "missing_alerts": missing_alerts,
        "duplicate_decisions": arrivals.duplicate_decisions,
        "duplicate_alerts": duplicate_alerts,
        "job_restarts": restarts,
        "kept_up": kept_up,
        "sustained": sustained,
        "alert_latency": alert_latency,
        "decision_latency": latencies(arrivals.decisions, sent),
        "load": load,
        "checkpoints": checkpoint,
    }


def ladder(configuration: Configuration, rates: tuple[int, ...], seconds: int, drain: int) -> dict:
    """One configuration: start a stack, measure cold start to first alert, warm up, then climb the rates.

    The climb ends at the first rate at or above HEADLINE_RATE that the pipeline does not keep up with;
    after any rate it did not keep up with, the backlog drains before the next one starts.
    """
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as scratch:
        started = time.monotonic()
        with private_stack(
            Path(scratch), {**INSTANT_MERCHANT_SERVICE, **configuration.service_env}, configuration.runtime_properties
        ) as stack:
            ready = time.monotonic() - started
            first_alert = smoke(stack)
            kafka = Kafka(stack.config.kafka_connection())
            # The JIT compiles the runtime's hot paths in the first minute under load; measure after it.
            run_rate(stack, kafka, seed=999, rate=WARM_UP_RATE, seconds=WARM_UP_SECONDS, drain=drain)
            runs = []
            for index, rate in enumerate(rates):
                result = run_rate(stack, kafka, seed=1000 + index, rate=rate, seconds=seconds, drain=drain)
                runs.append(result)
                print(
                    f"[bench] {configuration.name} {rate} tx/s: kept up={result['kept_up']} "
                    f"sustained={result['sustained']} alert p50/p99 {result['alert_latency']['p50_ms']}/"
                    f"{result['alert_latency']['p99_ms']} ms",
                    file=sys.stderr,
                    flush=True,
                )
                if not result["kept_up"]:
                    if rate >= HEADLINE_RATE:
                        break
                    wait_until_drained(stack)
    sustained = [run["rate"] for run in runs if run["sustained"]]
    kept_up = [run["rate"] for run in runs if run["kept_up"]]
    return {
        "name": configuration.name,
        "guarantee": configuration.guarantee,
        "exactly_once": configuration.exactly_once,
        "cold_start": {"stack_ready_s": round(ready, 1), "first_alert_s": first_alert},
        "highest_sustained_rate": max(sustained, default=0),
        "highest_rate_kept_up": max(kept_up, default=0),
        "runs": runs,
    }


def smoke(stack: LocalStack) -> float:
    """Seconds from sending one transaction built to alert to reading its alert (the simulator's smoke command)."""
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "fraud_simulator",
            "smoke",
            "--bootstrap-servers",
            stack.config.bootstrap_servers,
            "--timeout",
            "120",
        ],
        check=True,
        capture_output=True,
        env={**stack.service_env(), "LOG_LEVEL": "WARNING"},
    )
    return round(time.monotonic() - started, 1)


def wait_until_drained(stack: LocalStack, timeout: float = 180) -> None:
    """Wait until the runtime has caught up with `transactions` (consumer lag 0), so runs do not overlap."""
    group = module_spec.placeholders(stack.service_env())["KAFKA_CONSUMER_GROUP"]
    deadline = time.monotonic() + timeout
    while consumer_lag(stack.config.kafka_connection(), group, TRANSACTIONS_TOPIC) > 0:
        if time.monotonic() > deadline:
            return
        time.sleep(2)


def run(
    seconds: int = 30,
    drain: int = 30,
    rates: tuple[int, ...] = RATES,
    configurations: tuple[Configuration, ...] = CONFIGURATIONS,
) -> dict:
    """Every configuration's ladder; the section of docs/benchmarks.json this benchmark owns."""
    results = [ladder(configuration, rates, seconds, drain) for configuration in configurations]
    default = results[0]
    at_headline = next((run for run in default["runs"] if run["rate"] == HEADLINE_RATE), None)
    best = max((result for result in results if result["exactly_once"]), key=lambda r: r["highest_sustained_rate"])
    return {
        "seconds_per_rate": seconds,
        "drain_seconds": drain,
        "configurations": results,
        "e2e_tps": best["highest_sustained_rate"],
        "e2e_tps_configuration": best["name"],
        "e2e_p99_ms": at_headline["alert_latency"]["p99_ms"] if at_headline else None,
    }
