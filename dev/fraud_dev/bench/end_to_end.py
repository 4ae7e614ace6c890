"""End to end on the local stack: the simulator's scenario mode at climbing rates, until the knee.

For each configuration a private local stack starts (real Kafka, the real
StateFun runtime, the function server, merchant-service answering at once; no
telemetry stack), and for each rate (a rung) the simulator produces `seconds`
worth of a seeded scenario while this process times every decision and alert as
a `read_committed` consumer sees it (dev/fraud_dev/bench/arrivals.py) and samples
CPU per process and the runtime JVM's threads (dev/fraud_dev/bench/sampler.py).
The mixed configuration also produces, beside the transactions, a `confirmed`
and a `thresholds` record per transaction at the same rate
(dev/fraud_dev/bench/side_streams.py).

Only the rung's own transaction ids (the seeded scenario's) are counted: a late
decision of an earlier rung is not this rung's. A rung is kept up when the
producer achieved at least 95 % of the rate (below that it measured the
producer, not the pipeline), every transaction was decided within the drain,
exactly once, every `alert` decision has exactly one alert, and the last third
of the run was decided about as fast as the first (the backlog did not grow).
The ladder climbs (RUNGS, then STEP more each time) until a rung is not kept
up, so it finds the knee rather than assuming it; it goes on past a failure
until the configuration's required rate (one a headline key is read at) has
been measured. A configuration's kept-up rate is the highest rung below the
first one that was not kept up. Once the ladder has drained, the configuration's
whole ledger of decisions and alerts is read, and each rung's missing and
duplicated ones are counted there (issue 18's counts), however late they came.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fraud_common.contract import ALERTS_TOPIC, DECISIONS_TOPIC, TRANSACTIONS_TOPIC, Outcome
from fraud_dev import module_spec
from fraud_dev.bench.arrivals import ArrivalCollector, Arrivals, read_ledger, sent_times
from fraud_dev.bench.sampler import Sampler
from fraud_dev.bench.side_streams import achieved_rate
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
from fraud_simulator.transactions import scenario_transactions

# The ladder: these rungs, then STEP more each time until a rung is not kept up (or CEILING, where it says so).
RUNGS = (100, 200, 400, 600)
MIXED_RUNGS = (50, 100, 200, 400, 600)
STEP = 200
CEILING = 4000
WARM_UP_RATE, WARM_UP_SECONDS = 100, 30
# How long the backlog of a ladder's last rung may take to drain before its ledger is read.
FINAL_DRAIN_SECONDS = 300
LATENCY_TARGET_MS = 1000
# Below this share of its nominal rate the producer, not the pipeline, set the pace of the rung.
PRODUCER_SHARE = 0.95
# merchant-service answers at once: the benchmark measures the pipeline, not a simulated dependency.
INSTANT_MERCHANT_SERVICE = {"MERCHANT_LATENCY_MS_MIN": "0", "MERCHANT_LATENCY_MS_MAX": "0"}

# A rung's verdict.
KEPT_UP = "kept up"
PRODUCER_LIMITED = "producer-limited"
UNDECIDED = "not all decided"
INEXACT = "duplicates or missing alerts"
BACKLOG = "backlog grew"


@dataclass(frozen=True)
class Configuration:
    name: str
    guarantee: str
    # Whether alerts keep the exactly-once guarantee.
    exactly_once: bool
    service_env: dict[str, str] = field(default_factory=dict)
    runtime_properties: dict[str, str] = field(default_factory=dict)
    # `confirmed` and `thresholds` each at the transactions' rate (the mixed rung).
    side_streams: bool = False
    rungs: tuple[int, ...] = RUNGS
    # The ladder goes on past a rung not kept up until it has measured this rate (a key is read there).
    required_rate: int = 0


DEFAULT = "default"
# The default before ADR 0009's memtables: RocksDB's own write buffer size, side by side with the default. (Full
# checkpoints, measured twice, changed nothing; timers cannot leave RocksDB: StateFun's validator refuses HEAP.)
ROCKSDB_64MB_BUFFERS = "RocksDB, 64 MB write buffers"
AT_LEAST_ONCE = "at-least-once alerts"
MIXED = "default, side streams at the transactions' rate"
REQUESTS_RATE = 200  # requests_per_transaction is read in the default configuration at this rate
EO_LATENCY_RATE, ALO_LATENCY_RATE = 400, 600

CONFIGURATIONS = (
    Configuration(
        DEFAULT,
        "exactly-once alerts, 5 s checkpoints, RocksDB with incremental checkpoints and 4 MB write buffers "
        "(runtime/conf/flink-conf.yaml)",
        True,
        required_rate=max(REQUESTS_RATE, EO_LATENCY_RATE),
    ),
    Configuration(
        ROCKSDB_64MB_BUFFERS,
        "the default with RocksDB's own 64 MB write buffers (the default before ADR 0009's 4 MB): their arena blocks "
        "overflow the write buffer manager, which flushes a memtable on almost every write",
        True,
        runtime_properties={"state.backend.rocksdb.writebuffer.size": "64mb"},
    ),
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
        AT_LEAST_ONCE,
        "alerts written at once, outside Kafka transactions "
        "(ALERTS_DELIVERY=at-least-once; decisions stay exactly-once), heap state",
        False,
        service_env={"ALERTS_DELIVERY": "at-least-once"},
        runtime_properties={"state.backend": "hashmap"},
        required_rate=ALO_LATENCY_RATE,
    ),
    Configuration(
        MIXED,
        "the default configuration; `confirmed` and `thresholds` each at the transactions' rate "
        "(dev/fraud_dev/bench/side_streams.py)",
        True,
        side_streams=True,
        rungs=MIXED_RUNGS,
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
    """The checkpoint interval, the latest completed checkpoint's size and duration, and the average duration
    so far (Flink REST)."""
    job = running_job(stack)
    stats = flink(stack, f"/jobs/{job}/checkpoints")
    latest = (stats.get("latest") or {}).get("completed") or {}
    summary = stats.get("summary", {}).get("end_to_end_duration", {})
    return {
        "interval_ms": flink(stack, f"/jobs/{job}/checkpoints/config").get("interval"),
        "completed": stats["counts"]["completed"],
        "failed": stats["counts"]["failed"],
        "latest_state_size_bytes": latest.get("state_size"),
        "latest_checkpointed_size_bytes": latest.get("checkpointed_size"),
        "latest_duration_ms": latest.get("end_to_end_duration"),
        "average_duration_ms": summary.get("avg"),
    }


def producer(stack: LocalStack, module: str, seed: int, rate: int, seconds: int, *options: str) -> subprocess.Popen:
    """`python -m module` producing rate x seconds records of scenario `seed` at `rate` per second."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            module,
            *options,
            "--seed",
            str(seed),
            "--count",
            str(rate * seconds),
            "--rate",
            str(rate),
            "--bootstrap-servers",
            stack.config.bootstrap_servers,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**stack.service_env(), "LOG_LEVEL": "WARNING"},
    )


def simulate(stack: LocalStack, seed: int, rate: int, seconds: int) -> subprocess.Popen:
    """The simulator's scenario mode producing the rung's transactions; it exits once they are sent
    (`--timeout 0`: this process reads the decisions and alerts itself)."""
    return producer(
        stack, "fraud_simulator", seed, rate, seconds, "scenario", "--timeout", "0", "--status-interval", "0"
    )


def side_streams(stack: LocalStack, seed: int, rate: int, seconds: int) -> subprocess.Popen:
    """`confirmed` and `thresholds` for the accounts of scenario `seed`, each at `rate` per second."""
    return producer(stack, "fraud_dev.bench.side_streams", seed, rate, seconds)


def last_json_line(process: subprocess.Popen, what: str) -> dict[str, Any]:
    """The summary a producer printed last; a clear error when it printed none (it failed)."""
    out, err = process.communicate()
    lines = (out or "").strip().splitlines()
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"{what} exited {process.returncode} without a summary: {(err or '').strip()[-2000:]}")
    return json.loads(lines[-1])


def load_then_summaries(
    sampler: Sampler, seconds: float, producers: dict[str, subprocess.Popen]
) -> tuple[dict, dict[str, dict[str, Any]]]:
    """The CPU of `seconds` of load, then each producer's summary. A producer is reaped only after the load was
    read: a reaped process has left /proc, so the simulator, which exits as soon as its rung is sent, read as
    0 % until 2026-12-03 (an exited, unreaped process still shows its CPU)."""
    sampler.start()
    time.sleep(seconds)
    load = sampler.stop()
    return load, {name: last_json_line(process, f"the {name}") for name, process in producers.items()}


def run_rate(
    stack: LocalStack, kafka: Kafka, configuration: Configuration, seed: int, rate: int, seconds: int, drain: int
) -> dict:
    """One rung: produce, time every decision and alert, sample CPU during the load, judge."""
    since = offsets(kafka, TRANSACTIONS_TOPIC, DECISIONS_TOPIC, ALERTS_TOPIC)
    restarts_before = job_restarts(stack)[1]
    requests_before, messages_before = served(stack)
    collector = ArrivalCollector(
        stack.config.bootstrap_servers, {DECISIONS_TOPIC: since[DECISIONS_TOPIC], ALERTS_TOPIC: since[ALERTS_TOPIC]}
    ).start()
    simulator = simulate(stack, seed, rate, seconds)
    side = side_streams(stack, seed, rate, seconds) if configuration.side_streams else None
    pids = {service.name: service.pid for service in stack.services if service.pid is not None}
    producers = {"simulator": simulator.pid} | ({"side streams": side.pid} if side else {})
    sampler = Sampler({**pids, **producers, "benchmark (alert reader)": os.getpid()}, threads_of="statefun-runtime")
    load, summaries = load_then_summaries(
        sampler, seconds, {"simulator": simulator} | ({"side streams": side} if side else {})
    )
    count = rate * seconds
    summary, side_summary = summaries["simulator"], summaries.get("side streams")
    own = own_ids(seed, count)
    deadline = time.monotonic() + drain
    while not collector.settled(own) and time.monotonic() < deadline:
        time.sleep(0.5)
    arrivals = collector.stop()
    sent = sent_times(stack.config.bootstrap_servers, since[TRANSACTIONS_TOPIC], count)
    result = {"seed": seed, "count": count, **judge(rate, own, summary, sent, arrivals, side_summary)}
    requests, messages = (
        after - before for after, before in zip(served(stack), (requests_before, messages_before), strict=True)
    )
    result["requests_per_transaction"] = round(requests / count, 2)
    result["messages_per_request"] = round(messages / requests, 2) if requests else None
    result["job_restarts"] = job_restarts(stack)[1] - restarts_before
    result["load"] = load
    result["checkpoints"] = checkpoints(stack)
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


def producer_rate(sent: dict[str, int]) -> float | None:
    """The transactions producer's achieved rate, from its records' Kafka timestamps (set when it sent them)."""
    if not sent:
        return None
    return achieved_rate(len(sent), (max(sent.values()) - min(sent.values())) / 1000)


def verdict(rate: int, producer_rates: Iterable[float | None], complete: bool, exact: bool, steady: bool) -> str:
    """A rung's verdict: producer-limited first (then it measured the producer, whatever the pipeline did)."""
    if any(achieved is None or achieved < PRODUCER_SHARE * rate for achieved in producer_rates):
        return PRODUCER_LIMITED
    if not complete:
        return UNDECIDED
    if not exact:
        return INEXACT
    return KEPT_UP if steady else BACKLOG


def own_counts(ids: set[str], arrivals: Arrivals) -> dict[str, int]:
    """Missing and duplicated decisions and alerts of the transactions `ids` in `arrivals`, and no others."""
    decided = ids & arrivals.decisions.keys()
    alerted = {tid for tid in decided if arrivals.outcomes.get(tid) == Outcome.ALERT}
    return {
        "missing_decisions": len(ids - decided),
        "duplicate_decisions": sum(n for tid, n in arrivals.duplicate_decisions.items() if tid in ids),
        "missing_alerts": len(alerted - arrivals.alerts.keys()),
        "duplicate_alerts": sum(n for tid, n in arrivals.duplicate_alerts.items() if tid in ids),
    }


def own_ids(seed: int, count: int) -> list[str]:
    """The transaction ids of scenario `seed` of `count` transactions: what the simulator sends for a rung."""
    return [transaction.transaction_id for transaction in scenario_transactions(seed, count)]


def judge(
    rate: int,
    own: list[str],
    summary: dict,
    sent: dict[str, int],
    arrivals: Arrivals,
    side: dict | None = None,
) -> dict:
    """Judge a rung from what arrived, counting only the rung's own transaction ids `own`."""
    ids = set(own)
    sent = {tid: at for tid, at in sent.items() if tid in ids}
    decisions = {tid: at for tid, at in arrivals.decisions.items() if tid in ids}
    alerts = {tid: at for tid, at in arrivals.alerts.items() if tid in ids}
    counts = own_counts(ids, arrivals)
    alert_latency = latencies(alerts, sent)
    producers = {"transactions": producer_rate(sent)}
    if side is not None:
        producers |= dict.fromkeys(side["sent"], side["achieved_rate_per_topic"])
    result = verdict(
        rate,
        producers.values(),
        complete=summary["produced"] == len(ids) and counts["missing_decisions"] == 0,
        exact=counts["missing_alerts"] == counts["duplicate_decisions"] == counts["duplicate_alerts"] == 0,
        steady=keeps_up(decisions, sent),
    )
    kept_up = result == KEPT_UP
    return {
        "rate": rate,
        "produced": summary["produced"],
        "producer_rates": producers,
        "side_records": side["sent"] if side is not None else None,
        "decided": len(decisions),
        "alerts": len(alerts),
        # Within the rung's drain; "ledger" holds the same counts once the whole ladder has drained.
        **counts,
        "verdict": result,
        "kept_up": kept_up,
        "sustained": kept_up and alert_latency["p99_ms"] is not None and alert_latency["p99_ms"] <= LATENCY_TARGET_MS,
        "alert_latency": alert_latency,
        "decision_latency": latencies(decisions, sent),
    }


def ladder_rates(rungs: tuple[int, ...], step: int = STEP, ceiling: int = CEILING) -> Iterator[int]:
    """The rungs, then `step` more each time, up to `ceiling`."""
    rate = 0
    for rate in rungs:
        if rate > ceiling:
            return
        yield rate
    while rate + step <= ceiling:
        rate += step
        yield rate


def climb(
    measure: Callable[[int], dict], rates: Iterable[int], required_rate: int, recover: Callable[[], None]
) -> list[dict]:
    """Measure rung after rung until one is not kept up at or above `required_rate`; after a rung not kept up
    below it, `recover` (let the backlog drain) before the next."""
    runs = []
    for rate in rates:
        run = measure(rate)
        runs.append(run)
        if not run["kept_up"]:
            if rate >= required_rate:
                break
            recover()
    return runs


def knee(runs: list[dict]) -> dict[str, Any]:
    """The highest rate kept up (every rung up to it kept up) and what the ladder says about the knee."""
    kept = 0
    for run in runs:
        if not run["kept_up"]:
            if run["verdict"] == PRODUCER_LIMITED:
                found = False
                text = (
                    f"knee not found: at {run['rate']} tx/s the producer achieved "
                    f"{run['producer_rates']} (under {PRODUCER_SHARE:.0%}), so the rung measured the producer; "
                    f"the pipeline kept up with {kept} tx/s"
                )
            else:
                found = True
                below = f"between {kept} and" if kept else "below"
                text = f"knee {below} {run['rate']} tx/s ({run['verdict']} at {run['rate']} tx/s)"
            return {"kept_up_tps": kept, "knee_found": found, "knee": text}
        kept = run["rate"]
    text = f"knee above {kept} tx/s: the ladder's last rung kept up" if runs else "no rung measured"
    return {"kept_up_tps": kept, "knee_found": False, "knee": text}


def ladder(configuration: Configuration, seconds: int, drain: int, ceiling: int = CEILING) -> dict:
    """One configuration: start a stack, measure cold start to first alert, warm up, then climb to the knee."""
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as scratch:
        started = time.monotonic()
        with private_stack(
            Path(scratch), {**INSTANT_MERCHANT_SERVICE, **configuration.service_env}, configuration.runtime_properties
        ) as stack:
            ready = time.monotonic() - started
            first_alert = smoke(stack)
            kafka = Kafka(stack.config.kafka_connection())
            since = offsets(kafka, DECISIONS_TOPIC, ALERTS_TOPIC)
            # The JIT compiles the runtime's hot paths in the first minute under load; measure after it. Not
            # above the first rung (the mixed ladder's is lower), and with no backlog left for the first rung.
            warm_up_rate = min(WARM_UP_RATE, configuration.rungs[0])
            warm_up = run_rate(stack, kafka, configuration, 999, warm_up_rate, WARM_UP_SECONDS, drain)
            if not warm_up["kept_up"]:
                wait_until_drained(stack)
            seeds = iter(range(1000, 2000))

            def measure(rate: int) -> dict:
                result = run_rate(stack, kafka, configuration, next(seeds), rate, seconds, drain)
                print(
                    f"[bench] {configuration.name} {rate} tx/s: {result['verdict']}, producers "
                    f"{result['producer_rates']}, alert p50/p99 {result['alert_latency']['p50_ms']}/"
                    f"{result['alert_latency']['p99_ms']} ms",
                    file=sys.stderr,
                    flush=True,
                )
                return result

            runs = climb(
                measure,
                ladder_rates(configuration.rungs, ceiling=ceiling),
                configuration.required_rate,
                lambda: wait_until_drained(stack),
            )
            complete = reconcile(stack, since, [warm_up, *runs])
    sustained = [run["rate"] for run in runs if run["sustained"]]
    return {
        "name": configuration.name,
        "guarantee": configuration.guarantee,
        "exactly_once": configuration.exactly_once,
        "side_streams": configuration.side_streams,
        "cold_start": {"stack_ready_s": round(ready, 1), "first_alert_s": first_alert},
        "highest_sustained_rate": max(sustained, default=0),
        **knee(runs),
        "ledger_complete": complete,
        "warm_up": warm_up,
        "runs": runs,
    }


def reconcile(stack: LocalStack, since: dict[str, dict[int, int]], rungs: list[dict]) -> bool:
    """After the ladder: let the backlog drain and its last checkpoint commit, read every decision and alert
    since the ladder began, and give each rung the counts of its own ids (`ledger`): a decision later than the
    rung's drain is late, not missing, and a duplicate is counted however late it came. Whether the whole
    ledger was read."""
    wait_until_drained(stack, timeout=FINAL_DRAIN_SECONDS)
    time.sleep((checkpoints(stack)["interval_ms"] or 0) / 1000 + 2)  # the checkpoint that commits the last ones
    ledger, complete = read_ledger(stack.config.bootstrap_servers, since)
    attach_ledger(rungs, ledger)
    return complete


def attach_ledger(rungs: list[dict], ledger: Arrivals) -> None:
    """Each rung's missing and duplicated decisions and alerts in the ladder's whole ledger, its own ids only."""
    for rung in rungs:
        rung["ledger"] = own_counts(set(own_ids(rung["seed"], rung["count"])), ledger)


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


def rung(configurations: list[dict], name: str, rate: int) -> tuple[dict | None, str | None]:
    """The rung at `rate` of configuration `name`, or None and why there is none."""
    configuration = next((c for c in configurations if c["name"] == name), None)
    if configuration is None:
        return None, f"the {name!r} configuration was not measured in this run"
    found = next((run for run in configuration["runs"] if run["rate"] == rate), None)
    if found is None:
        return None, f"the {name!r} ladder has no rung at {rate} tx/s in this run"
    return found, None


def keys(configurations: list[dict]) -> tuple[dict[str, Any], dict[str, str]]:
    """Issue 18's keys this benchmark measures, and a note for each (where it was read, or why it is null)."""
    values: dict[str, Any] = {}
    notes: dict[str, str] = {}

    at_requests, why = rung(configurations, DEFAULT, REQUESTS_RATE)
    values["requests_per_transaction"] = at_requests["requests_per_transaction"] if at_requests else None
    notes["requests_per_transaction"] = why or (
        f"function server requests over the {DEFAULT} configuration's {REQUESTS_RATE} tx/s rung "
        "(its fraud_function_request_seconds_count) per transaction"
    )
    for key, name, rate in (
        ("eo_alert_p99_ms_at_400", DEFAULT, EO_LATENCY_RATE),
        ("alo_alert_p99_ms_at_600", AT_LEAST_ONCE, ALO_LATENCY_RATE),
    ):
        found, why = rung(configurations, name, rate)
        if found is None:
            values[key], notes[key] = None, why or ""
            continue
        values[key] = found["alert_latency"]["p99_ms"]
        notes[key] = f"{name} at {rate} tx/s: {found['verdict']}" + (
            "" if values[key] is not None else ", no alert arrived"
        )

    by_name = {configuration["name"]: configuration for configuration in configurations}
    for key, name in (("e2e_kept_up_tps_default", DEFAULT), ("e2e_kept_up_tps_mixed", MIXED)):
        measured = by_name.get(name)
        values[key] = measured["kept_up_tps"] if measured else None
        notes[key] = measured["knee"] if measured else f"the {name!r} configuration was not measured in this run"
    plain = [configuration for configuration in configurations if not configuration["side_streams"]]
    best = max(plain, key=lambda configuration: configuration["kept_up_tps"], default=None)  # first of equals
    values["e2e_kept_up_tps_best"] = best["kept_up_tps"] if best else None
    values["e2e_kept_up_tps_best_configuration"] = best["name"] if best else None
    notes["e2e_kept_up_tps_best"] = (
        f"{best['name']}: {best['knee']}" if best else "no configuration without side streams was measured"
    )

    everything = [run for configuration in configurations for run in [configuration["warm_up"], *configuration["runs"]]]
    unread = [configuration["name"] for configuration in configurations if not configuration["ledger_complete"]]
    for key in ("missing_decisions", "duplicate_decisions", "missing_alerts", "duplicate_alerts"):
        values[key] = sum(run["ledger"][key] for run in everything) if everything else None
        notes[key] = (
            f"summed over all {len(everything)} rungs of this run (warm-ups included), each rung's own ids, "
            "in the ledger read once the ladder had drained"
        ) + (f"; the ledger was not read to its end for {', '.join(unread)}" if unread else "")
    return values, notes


def run(
    seconds: int = 30,
    drain: int = 30,
    configurations: tuple[Configuration, ...] = CONFIGURATIONS,
    ceiling: int = CEILING,
) -> dict:
    """Every configuration's ladder; the section of docs/benchmarks.json this benchmark owns."""
    results = [ladder(configuration, seconds, drain, ceiling) for configuration in configurations]
    values, notes = keys(results)
    default = next((result for result in results if result["name"] == DEFAULT), None)
    interval = default["runs"][-1]["checkpoints"]["interval_ms"] if default and default["runs"] else None
    return {
        "seconds_per_rate": seconds,
        "drain_seconds": drain,
        "configurations": results,
        "keys": values,
        "notes": notes,
        # eo_alert_p99_ms_at_400's target: the default configuration's checkpoint interval, plus a second.
        "targets": {"eo_alert_p99_ms_at_400": None if interval is None else interval + LATENCY_TARGET_MS},
    }
