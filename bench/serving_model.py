"""Serving model of the function server: one aiohttp process, or gunicorn with aiohttp workers?

Replays the steady-state request mix of one transaction (bench/request_mix.py)
over HTTP with wrk at saturation against each variant, side by side in one run
(these machines are shared and noisy: compare the ratios, not the absolutes):

- aiohttp, one process, pinned to CPU 0 (what the chart runs);
- gunicorn with one aiohttp worker, pinned to CPU 0 (gunicorn's cost per core);
- gunicorn with two aiohttp workers, on both CPUs (what a second core buys; wrk shares CPU 1).

wrk runs on CPU 1. Usage: python -m bench.serving_model [--seconds 15]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.request_mix import steady_state_mix
from bench.wrk import run_wrk, wait_ready, write_bodies
from tests.support.stack import free_port

@dataclass(frozen=True)
class Variant:
    name: str
    cpus: str
    command: list[str]


@dataclass(frozen=True)
class Measured:
    variant: str
    cpus: str
    requests_per_second: float
    transactions_per_second: float
    p50_ms: float
    p99_ms: float


def variants(port: int) -> list[Variant]:
    python = sys.executable
    gunicorn = str(Path(python).with_name("gunicorn"))
    worker = ["fraud_functions.server:app_factory", "--worker-class", "aiohttp.GunicornWebWorker",
              "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    return [
        Variant("aiohttp, 1 process", "0", [python, "-m", "fraud_functions.server"]),
        Variant("gunicorn, 1 aiohttp worker", "0", [gunicorn, *worker, "--workers", "1"]),
        Variant("gunicorn, 2 aiohttp workers", "0,1", [gunicorn, *worker, "--workers", "2"]),
    ]


def measure(variant: Variant, port: int, bodies: Path, script: Path, seconds: int) -> Measured:
    env = {**os.environ, "FUNCTIONS_PORT": str(port), "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(["taskset", "-c", variant.cpus, *variant.command], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_ready(port)
        run_wrk(port, script, 3)  # warm-up
        load = run_wrk(port, script, seconds)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    mix = len(list(bodies.glob("*.bin")))
    return Measured(variant.name, variant.cpus, round(load.requests_per_second),
                    round(load.requests_per_second / mix), load.p50_ms, load.p99_ms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args(argv)
    if not shutil.which("wrk") or not shutil.which("taskset"):
        print("needs wrk and taskset (apt-get install wrk util-linux)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        bodies = Path(scratch)
        script = write_bodies(bodies, steady_state_mix())
        port = free_port()  # the variants run one after another on the same port
        results = [measure(variant, port, bodies, script, args.seconds) for variant in variants(port)]
    print(json.dumps([asdict(result) for result in results], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
