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
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.request_mix import steady_state_mix
from tests.support.stack import free_port

LUA = """
local bodies, n, i = {}, 0, 0
for path in io.popen("ls " .. os.getenv("BODIES") .. "/*.bin"):lines() do
  local f = io.open(path, "rb"); n = n + 1; bodies[n] = f:read("*a"); f:close()
end
local headers = {["Content-Type"] = "application/octet-stream"}
request = function()
  i = i % n + 1
  return wrk.format("POST", "/statefun", headers, bodies[i])
end
response = function(status, headers, body)
  if status ~= 200 then error("status " .. status) end
end
"""


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


def wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not answer in {timeout}s")


def milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(port: int, bodies: Path, script: Path, seconds: int) -> tuple[float, float, float]:
    """requests/s, p50 and p99 latency (ms) of wrk against the server."""
    command = ["taskset", "-c", "1", "wrk", "-t", "2", "-c", "32", "-d", f"{seconds}s", "--latency",
               "-s", str(script), f"http://127.0.0.1:{port}/statefun"]
    output = subprocess.run(command, capture_output=True, text=True, check=True,
                            env={**os.environ, "BODIES": str(bodies)}).stdout
    if "Non-2xx" in output or "errors:" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = milliseconds(re.search(r"50%\s+(\S+)", output).group(1))
    p99 = milliseconds(re.search(r"99%\s+(\S+)", output).group(1))
    return rate, p50, p99


def measure(variant: Variant, port: int, bodies: Path, script: Path, seconds: int) -> Measured:
    env = {**os.environ, "FUNCTIONS_PORT": str(port), "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(["taskset", "-c", variant.cpus, *variant.command], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_ready(port)
        run_wrk(port, bodies, script, 3)  # warm-up
        rate, p50, p99 = run_wrk(port, bodies, script, seconds)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    mix = len(list(bodies.glob("*.bin")))
    return Measured(variant.name, variant.cpus, round(rate), round(rate / mix), p50, p99)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args(argv)
    if not shutil.which("wrk") or not shutil.which("taskset"):
        print("needs wrk and taskset (apt-get install wrk util-linux)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        bodies = Path(scratch)
        for index, body in enumerate(steady_state_mix()):
            (bodies / f"{index}.bin").write_bytes(body)
        script = bodies / "mix.lua"
        script.write_text(LUA)
        port = free_port()  # the variants run one after another on the same port
        results = [measure(variant, port, bodies, script, args.seconds) for variant in variants(port)]
    print(json.dumps([asdict(result) for result in results], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
