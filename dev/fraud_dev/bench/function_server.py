"""Function server at saturation over HTTP, beside the in-process SDK dispatch of the same requests.

Workloads, each replayed in one run:
- the steady-state mix of ten transactions (dev/fraud_dev/bench/request_mix.py, one request per
  round trip the runtime makes), traced as the simulator traces: every record
  carries a traceparent, one transaction in ten sampled;
- batches of 1, 10 and 100 invocations of the account's feature query for one
  account, which is how the runtime batches messages for a busy address (with as
  few connections as keep the server busy: IN_FLIGHT).

For each: the server (`python -m fraud_functions.server`, metrics on, tracing on
(sampling follows the records' traceparents; sampled spans are exported over
OTLP/HTTP to a sink in this process)) pinned to CPU 0 with wrk on CPU 1; then the same bodies handed to the
SDK's handler in this process on CPU 0 (dev/fraud_dev/bench/dispatch.py), the ceiling for a
Python server. The server is also measured with tracing off, to show what
tracing costs. `ratio` is the server's rate over the in-process rate.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from statistics import median

from statefun.request_reply_pb2 import ToFunction

from fraud_dev.bench.dispatch import dispatch_rate
from fraud_dev.bench.profile import Profile, record
from fraud_dev.bench.request_mix import traced_mix
from fraud_dev.bench.wrk import Load, run_wrk, wait_ready, write_bodies
from fraud_dev.paths import REPO_ROOT
from fraud_dev.ports import free_port

BATCH_SIZES = (1, 10, 100)
# Invocations wrk keeps in flight: the mix's 32 connections of one invocation each. A batch workload opens fewer
# connections (never under two, so that the server's core always has the next request waiting): the runtime sends
# one request at a time per address, so 32 batches of 100 at once would measure a queue no runtime builds, and
# its wait past wrk's two-second timeout (found so: p99 1.7 s, timeouts, at 119 requests/s).
IN_FLIGHT = 32
TRACE_SAMPLE_RATIO = 0.1
TRANSACTIONS = 10  # in the mix: the sampled share needs ten to be one in ten


@dataclass(frozen=True)
class Workload:
    name: str
    bodies: list[bytes]
    # Transactions one pass over the bodies stands for (the mix: 1), or invocations (a batch: its size).
    units: int
    unit: str
    connections: int = IN_FLIGHT


@dataclass(frozen=True)
class Measured:
    workload: str
    unit: str
    connections: int  # wrk's, each with one request in flight
    in_process_requests_per_second: float
    in_process_per_second: float
    http_requests_per_second: float
    http_per_second: float
    http_p50_ms: float
    http_p99_ms: float
    http_untraced_requests_per_second: float
    ratio: float
    # Bare HTTP servers around the same handler (dev/fraud_dev/bench/bare_servers.py): requests/s and ratio, by stack.
    bare_stacks: dict[str, dict[str, float]]
    # The server's profile under this load (py-spy), for the workload that is profiled.
    profile: Profile | None


def steady_mix() -> list[bytes]:
    """The steady-state mix of ten transactions, traced with one in ten sampled."""
    return traced_mix(TRANSACTIONS, round(1 / TRACE_SAMPLE_RATIO))


def workloads() -> list[Workload]:
    """The steady-state mix, and batches from its last transaction (unsampled, as nine in ten are)."""
    mix = steady_mix()
    return [
        Workload("steady-state mix", mix, TRANSACTIONS, "transactions"),
        *(
            Workload(
                f"account batch of {size}",
                [batch_of(mix, "account", size)],
                size,
                "invocations",
                connections=max(2, IN_FLIGHT // size),
            )
            for size in BATCH_SIZES
        ),
    ]


def batch_of(mix: list[bytes], function_type: str, size: int) -> bytes:
    """The mix's last request to `function_type` with its one invocation repeated `size` times."""
    for body in reversed(mix):
        request = ToFunction()
        request.ParseFromString(body)
        if request.invocation.target.type == function_type:
            invocation = request.invocation.invocations[0]
            del request.invocation.invocations[:]
            for _ in range(size):
                request.invocation.invocations.add().CopyFrom(invocation)
            return request.SerializeToString()
    raise ValueError(f"the mix has no request to {function_type}")


class SpanSink:
    """An OTLP/HTTP endpoint that accepts and counts trace exports, so tracing costs what it costs in production."""

    def __init__(self) -> None:
        self.exports = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sink.exports += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}/v1/traces"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()


def bare_stacks(port: int) -> dict[str, list[str]]:
    """The commands of the bare servers (dev/fraud_dev/bench/bare_servers.py) on `port`."""
    uvicorn = str(Path(sys.executable).with_name("uvicorn"))
    return {
        "bare aiohttp": [sys.executable, "-m", "fraud_dev.bench.bare_servers", "aiohttp", str(port)],
        "bare ASGI on uvicorn (httptools, uvloop)": [
            uvicorn,
            "fraud_dev.bench.bare_servers:asgi_app",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--log-level",
            "warning",
            "--no-access-log",
            "--lifespan",
            "off",
        ],
    }


def serve_and_load(
    port: int,
    script: Path,
    seconds: int,
    tracing_endpoint: str | None,
    profiled: bool = False,
    pythonpath: str | None = None,
    command: list[str] | None = None,
    connections: int = IN_FLIGHT,
) -> tuple[Load, Profile | None]:
    """Start the server on CPU 0, warm it, saturate it with wrk from CPU 1; then, if `profiled`, load it
    again while py-spy samples it (a separate pass, so sampling does not touch the figures); stop it.

    `pythonpath` serves another checkout's code (dev/fraud_dev/bench/revisions.py); `command` another server."""
    env = {**os.environ, "FUNCTIONS_PORT": str(port), "LOG_LEVEL": "WARNING", "FUNCTIONS_SHUTDOWN_DRAIN_SECONDS": "0"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED"):
        env.pop(name, None)
    if tracing_endpoint:
        env.update(
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=tracing_endpoint,
            OTEL_TRACES_SAMPLER="parentbased_traceidratio",
            OTEL_TRACES_SAMPLER_ARG=str(TRACE_SAMPLE_RATIO),
            OTEL_BSP_SCHEDULE_DELAY="1000",
        )
    server = subprocess.Popen(
        ["taskset", "-c", "0", *(command or [sys.executable, "-m", "fraud_functions.server"])],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=REPO_ROOT,
    )
    try:
        wait_ready(port)
        run_wrk(port, script, 2, connections)
        load = run_wrk(port, script, seconds, connections)
        if not profiled:
            return load, None
        loading = threading.Thread(target=run_wrk, args=(port, script, seconds + 2, connections))
        loading.start()
        sampled = record(server.pid, seconds)
        loading.join()
        return load, sampled
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def measure(
    workload: Workload, seconds: int, rounds: int, sink: SpanSink, profiled: bool, with_bare_stacks: bool = False
) -> Measured:
    """`rounds` rounds of traced server, untraced server, the bare stacks if asked, and in-process dispatch
    back to back; each figure is the median over rounds and each ratio the median of the rounds' own
    ratios, so a burst of load from a neighbour on this shared machine moves one round, not the result."""
    traced: list[Load] = []
    untraced: list[Load] = []
    bare: dict[str, list[float]] = {}
    inside: list[float] = []
    profile: Profile | None = None
    connections = workload.connections
    with tempfile.TemporaryDirectory() as scratch:
        script = write_bodies(Path(scratch), workload.bodies)
        for round_number in range(rounds):
            load, sampled = serve_and_load(
                free_port(), script, seconds, sink.endpoint, profiled and round_number == 0, connections=connections
            )
            traced.append(load)
            profile = profile or sampled
            untraced.append(serve_and_load(free_port(), script, seconds, None, connections=connections)[0])
            if with_bare_stacks:
                port = free_port()
                for name, command in bare_stacks(port).items():
                    load = serve_and_load(port, script, seconds, None, command=command, connections=connections)[0]
                    bare.setdefault(name, []).append(load.requests_per_second)
            inside.append(dispatch_rate(workload.bodies, seconds, cpu=0).requests_per_second)
    per_pass = len(workload.bodies)

    def per_unit(requests_per_second: float) -> float:
        return round(requests_per_second / per_pass * workload.units, 1)

    http = median(load.requests_per_second for load in traced)
    ceiling = median(inside)
    return Measured(
        workload=workload.name,
        unit=workload.unit,
        connections=connections,
        in_process_requests_per_second=ceiling,
        in_process_per_second=per_unit(ceiling),
        http_requests_per_second=http,
        http_per_second=per_unit(http),
        http_p50_ms=median(load.p50_ms for load in traced),
        http_p99_ms=median(load.p99_ms for load in traced),
        http_untraced_requests_per_second=median(load.requests_per_second for load in untraced),
        ratio=round(median(load.requests_per_second / rate for load, rate in zip(traced, inside, strict=True)), 3),
        bare_stacks={
            name: {
                "requests_per_second": median(rates),
                "ratio": round(median(rate / ceiling for rate, ceiling in zip(rates, inside, strict=True)), 3),
            }
            for name, rates in bare.items()
        },
        profile=profile,
    )


def run(seconds: int = 10, rounds: int = 3) -> dict:
    """Every workload; the section of docs/benchmarks.json this benchmark owns."""
    sink = SpanSink()
    try:
        # The steady-state mix is profiled and set beside the bare stacks: the headline ratio is about it.
        results = [
            measure(workload, seconds, rounds, sink, profiled=index == 0, with_bare_stacks=index == 0)
            for index, workload in enumerate(workloads())
        ]
    finally:
        sink.close()
    if sink.exports == 0:
        raise RuntimeError("tracing was on but no span export reached the sink")
    return {
        "seconds_per_measurement": seconds,
        "rounds": rounds,
        "trace_sample_ratio": TRACE_SAMPLE_RATIO,
        "span_exports": sink.exports,
        "results": [asdict(result) for result in results],
        # The steady-state mix, the server's transactions/s per core over the ceiling's.
        "function_server_ratio": results[0].ratio,
        "keys": {"function_server_tps_per_core": results[0].http_per_second},
        "notes": {
            "function_server_tps_per_core": f"transactions/s of one core over HTTP, {results[0].workload}, metrics "
            f"on, {TRACE_SAMPLE_RATIO:.0%} of traces sampled (median of {rounds} rounds)"
        },
    }
