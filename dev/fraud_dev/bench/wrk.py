"""Driving wrk at a function server: the request bodies, the Lua script that cycles through them, the parsing.

wrk (Debian) runs on CPU 1 with two threads and 32 connections; a server under
test runs pinned to CPU 0, so load generation does not eat the server's core.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

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
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def write_bodies(folder: Path, bodies: list[bytes]) -> Path:
    """The bodies as files wrk's script reads, and the script; returns the script's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, body in enumerate(bodies):
        (folder / f"{index:03d}.bin").write_bytes(body)
    script = folder / "mix.lua"
    script.write_text(LUA)
    return script


def wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not answer in {timeout}s")


def milliseconds(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise ValueError(f"wrk printed a duration it does not document: {text!r}")
    value, unit = found.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(port: int, script: Path, seconds: int, connections: int = 32) -> Load:
    """Saturate the server with the script's bodies for `seconds`; any non-200 answer is an error."""
    command = [
        "taskset",
        "-c",
        "1",
        "wrk",
        "-t",
        "2",
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--latency",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}/statefun",
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, env={**os.environ, "BODIES": str(script.parent)}
    ).stdout
    rate, p50, p99 = (
        re.search(pattern, output)
        for pattern in (r"Requests/sec:\s+([\d.]+)", r"50%\s+([\d.]+\w+)", r"99%\s+([\d.]+\w+)")
    )
    if "Non-2xx" in output or "errors:" in output or not (rate and p50 and p99):
        raise RuntimeError(f"wrk saw errors or printed no figures:\n{output}")
    return Load(float(rate.group(1)), milliseconds(p50.group(1)), milliseconds(p99.group(1)))
