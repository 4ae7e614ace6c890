"""The benchmarks' own logic, without measuring anything: parsing, judging, reporting.

The figures come from `make bench`, never from a test; these tests only make
sure the benchmarks read their tools' output right and judge a run the way
docs/benchmarks.md says they do.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import shutil
import subprocess
import sys

import pytest
from statefun.request_reply_pb2 import FromFunction, ToFunction

from fraud_common.contract import ALERTS_TOPIC, DECISIONS_TOPIC, Outcome
from fraud_dev.bench import report
from fraud_dev.bench.arrivals import ArrivalCollector, Arrivals
from fraud_dev.bench.dispatch import handler
from fraud_dev.bench.end_to_end import judge, keeps_up, load_then_summaries, percentile
from fraud_dev.bench.function_server import bare_stacks, batch_of
from fraud_dev.bench.profile import summarize
from fraud_dev.bench.request_mix import steady_state_mix
from fraud_dev.bench.sampler import Sampler, cpu_seconds, thread_group
from fraud_dev.bench.wrk import milliseconds


def test_py_spy_samples_are_summed_by_the_innermost_frames_layer():
    collapsed = "\n".join(
        [
            "main (fraud_functions/server.py:10);handle_async (statefun/request_reply_v3.py:243) 6",
            "main (fraud_functions/server.py:10);write (asyncio/selector_events.py:1) 3",
            "main (fraud_functions/server.py:10);dumps (json/encoder.py:200) 1",
            "garbage line",
        ]
    )
    profile = summarize(collapsed)
    assert profile.samples == 10
    assert profile.layers == {"statefun SDK": 60.0, "asyncio event loop": 30.0, "JSON": 10.0}
    assert profile.top_functions[0] == ("handle_async (request_reply_v3.py)", 60.0)


def test_wrk_latencies_in_any_unit_become_milliseconds():
    assert [milliseconds(text) for text in ("850.00us", "4.16ms", "1.20s")] == [0.85, 4.16, 1200.0]


def test_cpu_seconds_read_utime_and_stime_past_a_command_name_with_spaces(tmp_path):
    stat = tmp_path / "stat"
    # pid (comm) state, then fields 4..13, utime (14) = 250 ticks, stime (15) = 50 ticks.
    stat.write_text("42 (C2 Compiler (x)) S " + " ".join(["0"] * 10) + " 250 50 0 0\n")
    assert cpu_seconds(stat) == pytest.approx(300 / os.sysconf("SC_CLK_TCK"))
    assert cpu_seconds(tmp_path / "gone") == 0.0


def test_a_producer_that_exits_before_the_load_is_read_still_shows_its_cpu():
    burn = "\n".join(
        [
            "import json, time",
            "start = time.process_time()",
            "while time.process_time() - start < 0.3: pass",
            "print(json.dumps({'sent': 1}))",
        ]
    )
    producer = subprocess.Popen([sys.executable, "-c", burn], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    load, summaries = load_then_summaries(Sampler({"producer": producer.pid}), 2.0, {"producer": producer})
    assert summaries == {"producer": {"sent": 1}}
    assert load["cpu_percent"]["producer"] >= 10, "0.3 s of CPU within the 2 s of load: not read as nothing"


def test_threads_of_one_pool_share_a_group():
    assert thread_group("rocksdb:low3\n") == thread_group("rocksdb:low12") == "rocksdb:low#"


def test_percentiles_are_nearest_rank():
    values = list(range(1, 1001))
    assert [percentile(values, share) for share in (0.5, 0.99, 0.999)] == [500, 990, 999]
    assert percentile([], 0.5) is None


def _arrivals(decided: dict[str, str], alerts: dict[str, int], at: int = 2000) -> Arrivals:
    return Arrivals(decisions=dict.fromkeys(decided, at), outcomes=dict(decided), alerts=dict(alerts))


# Three transactions sent 100 ms apart: a producer that achieved 10 tx/s.
SENT = {"a": 1000, "b": 1100, "c": 1200}
OWN = list(SENT)


def test_a_rate_is_sustained_only_with_every_decision_every_alert_and_p99_within_a_second():
    summary = {"produced": 3, "duplicates": []}
    outcomes = {"a": Outcome.ALERT, "b": Outcome.NO_ALERT, "c": Outcome.NO_ALERT}
    on_time = judge(10, OWN, summary, SENT, _arrivals(outcomes, {"a": 1500}))
    assert on_time["kept_up"] and on_time["sustained"] and on_time["alert_latency"]["p99_ms"] == 500
    late = judge(10, OWN, summary, SENT, _arrivals(outcomes, {"a": 2500}))
    assert late["kept_up"] and not late["sustained"]
    alert_missing = judge(10, OWN, summary, SENT, _arrivals({**outcomes, "b": Outcome.ALERT}, {"a": 1500}))
    assert not alert_missing["kept_up"] and alert_missing["missing_alerts"] == 1
    undecided = judge(10, OWN, summary, SENT, _arrivals({"a": Outcome.ALERT, "b": Outcome.NO_ALERT}, {"a": 1500}))
    assert not undecided["kept_up"] and not undecided["sustained"]
    assert (undecided["missing_decisions"], undecided["verdict"]) == (1, "not all decided")


def test_a_decision_or_alert_arriving_twice_is_counted_and_the_rate_not_kept_up_with():
    collector = ArrivalCollector("127.0.0.1:9", {})
    for at in (1500, 1600):
        for transaction_id in (b"a", b"z"):  # z: an earlier rung's transaction, decided late
            collector.file_record(DECISIONS_TOPIC, transaction_id, b'{"outcome": "alert"}', at)
            collector.file_record(ALERTS_TOPIC, b"acct", b'{"transaction_id": "%s"}' % transaction_id, at)
    for transaction_id in (b"b", b"c"):
        collector.file_record(DECISIONS_TOPIC, transaction_id, b'{"outcome": "no_alert"}', 1500)
    arrivals = collector.arrivals
    assert (arrivals.decisions["a"], arrivals.alerts["a"]) == (1500, 1500)  # the first arrival is timed
    assert (arrivals.duplicate_decisions, arrivals.duplicate_alerts) == ({"a": 1, "z": 1}, {"a": 1, "z": 1})
    judged = judge(10, OWN, {"produced": 3, "duplicates": []}, SENT, arrivals)
    assert (judged["duplicate_decisions"], judged["duplicate_alerts"]) == (1, 1), "only the rung's own ids count"
    assert (judged["decided"], judged["alerts"]) == (3, 1)
    assert judged["verdict"] == "duplicates or missing alerts"
    assert not judged["kept_up"] and not judged["sustained"]


def test_a_backlog_that_grows_during_the_run_is_not_keeping_up():
    sent = {f"t{i}": i * 100 for i in range(30)}
    steady = {tid: at + 300 for tid, at in sent.items()}
    growing = {tid: at + 300 + 40 * at // 100 * 10 for tid, at in sent.items()}  # each later one waits longer
    assert keeps_up(steady, sent)
    assert not keeps_up(growing, sent)


def test_a_batch_is_one_request_the_sdk_answers_once_per_invocation():
    body = batch_of(steady_state_mix(), "account", 10)
    request = ToFunction()
    request.ParseFromString(body)
    assert len(request.invocation.invocations) == 10
    response = FromFunction()
    response.ParseFromString(asyncio.run(handler().handle_async(body)))
    assert len(response.invocation_result.outgoing_messages) == 10


def test_the_report_fills_every_generated_block_and_keeps_the_prose(tmp_path):
    page = tmp_path / "benchmarks.md"
    shutil.copy(report.REPORT, page)
    prose = page.read_text().split("<!--")[0]
    results = report.lift(
        {
            "function_server_ratio": 0.35,  # an old headline figure: not carried over
            "sections": {
                "sdk": {
                    "speedup": 2.0,
                    "measured_at": "now",
                    "machine": {"cpus": 2},
                    "packages": {
                        "flink-statefun": {
                            "sdk": "flink-statefun 3.5.0",
                            "protobuf": "7",
                            "protobuf_implementation": "upb",
                            "requests_per_second": 10.0,
                            "transactions_per_second": 1.0,
                        }
                    },
                },
            },
        }
    )
    assert "function_server_ratio" not in results
    report.render(results, page)
    text = page.read_text()
    assert text.startswith(prose)
    assert "| `function_server_tps_per_core` | – | >= 1,500 | not measured |" in text
    assert (
        "| `e2e_kept_up_tps_default` | – | >= 800 | not measured | not measured since issue 18: run `make bench` "
        "(or `python -m fraud_dev.bench end-to-end`) |" in text
    )
    assert (
        "flink-statefun 3.5.0" in text
        and "Not measured yet: run `make bench` (or `python -m fraud_dev.bench end-to-end`)" in text
    )
    report.render(results, page)
    assert page.read_text() == text, "rendering twice changes nothing"


def test_every_bare_server_command_names_a_module_and_app_that_exist():
    """The bare servers run as `python -m MODULE` and `uvicorn MODULE:APP`: both must name what is there."""
    commands = bare_stacks(8000).values()
    targets = [argv[argv.index("-m") + 1] for argv in commands if "-m" in argv]
    targets += [argument for argv in commands for argument in argv if ":" in argument and "/" not in argument]
    assert len(targets) == len(commands)
    for target in targets:
        module, _, attribute = target.partition(":")
        imported = importlib.import_module(module)
        assert not attribute or callable(getattr(imported, attribute)), target


def test_a_rung_is_settled_once_its_own_ids_are_decided_and_their_alerts_arrived():
    collector = ArrivalCollector("127.0.0.1:9", {})
    collector.file_record(DECISIONS_TOPIC, b"a", b'{"outcome": "alert"}', 1500)
    collector.file_record(DECISIONS_TOPIC, b"b", b'{"outcome": "no_alert"}', 1500)
    assert collector.settled(["b"]) and not collector.settled(["a", "b"]), "a's alert has not arrived"
    collector.file_record(ALERTS_TOPIC, b"acct", b'{"transaction_id": "a"}', 1600)
    assert collector.settled(["a", "b"]) and not collector.settled(["a", "b", "c"])


def test_the_thread_table_sets_every_configuration_beside_the_default_at_its_highest_kept_up_rate():
    def run(rate: int, kept_up: bool, threads: dict[str, float]) -> dict:
        return {"rate": rate, "kept_up": kept_up, "load": {"threads": threads}}

    configurations = [
        {
            "name": "default",
            "runs": [
                run(200, True, {"a": 1.0}),
                run(400, True, {"rocksdb:low#": 30.0, "b": 5.0}),
                run(600, False, {"rocksdb:low#": 40.0}),
            ],
        },
        {"name": "tuned", "runs": [run(400, True, {"b": 6.0, "c": 2.0}), run(600, True, {"b": 9.0})]},
        {"name": "no such rung", "runs": [run(300, True, {"b": 1.0})]},
    ]
    rendered = report.render_threads(configurations)
    assert "at 400 tx/s" in rendered
    lines = rendered.splitlines()
    assert "| thread group | default | tuned |" in lines  # a configuration without a 400 rung has no column
    assert "| `rocksdb:low#` | 30.0 | – |" in lines  # the busiest group first; absent from tuned's busiest
    assert "| `b` | 5.0 | 6.0 |" in lines
    assert "| **all threads listed** | 35.0 | 8.0 |" in lines
