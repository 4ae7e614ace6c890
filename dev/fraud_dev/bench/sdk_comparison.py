"""The two Python SDK packages side by side: PyPI `apache-flink-statefun` 3.3.0 against `flink-statefun` 3.5.0.

Both install the same `statefun` module with the same API; they differ in the
protobuf generation their `_pb2` modules need. `apache-flink-statefun` 3.3.0
requires protobuf < 4, and protobuf 3.20.3 (the last 3.x) has no compiled wheel
for Python 3.11, so pip installs its pure-Python implementation; `flink-statefun`
3.5.0 runs on protobuf >= 6.31 and its upb (C) implementation.

The Apache package gets a virtualenv of its own under .cache/bench/ (with the
functions' other dependencies at this project's pinned versions, and this
project's code on PYTHONPATH, not installed); both environments then run
dev/fraud_dev/bench/dispatch.py on the same recorded request bodies, alternating, and the
figures are medians. ADR 0008 records the choice this measurement supports.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

from fraud_dev.bench.request_mix import steady_state_mix
from fraud_dev.bench.wrk import write_bodies
from fraud_dev.paths import REPO_ROOT

REPO = REPO_ROOT
APACHE_VENV = REPO / ".cache" / "bench" / "apache-flink-statefun-3.3.0"
APACHE_PACKAGE = "apache-flink-statefun==3.3.0"
# What the functions import besides the SDK, at the versions constraints.txt pins. Not the OTLP
# exporter: it needs protobuf >= 5, which is the incompatibility ADR 0008 is about.
SHARED_DEPENDENCIES = ("aiohttp", "prometheus_client", "opentelemetry-api", "opentelemetry-sdk", "PyYAML")
SOURCE_PATH = ":".join(str(REPO / folder) for folder in ("functions", "common", "dev"))


def pinned(names: tuple[str, ...]) -> list[str]:
    """`name==version` for each name, as constraints.txt pins it."""
    pins = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        name, _, version = line.partition("==")
        if version:
            pins[name.strip().lower().replace("_", "-")] = f"{name.strip()}=={version.strip()}"
    return [pins[name.lower().replace("_", "-")] for name in names]


def apache_python() -> Path:
    """The Apache package's environment (created on first use; a second of checks afterwards)."""
    python = APACHE_VENV / "bin" / "python"
    stamp = APACHE_VENV / ".installed"
    if not stamp.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(APACHE_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", APACHE_PACKAGE, *pinned(SHARED_DEPENDENCIES)], check=True
        )
        stamp.touch()
    return python


def describe(python: Path) -> dict[str, str]:
    """The SDK distribution, protobuf version and protobuf implementation an environment runs."""
    probe = (
        "import json, importlib.metadata as m\n"
        "from google.protobuf.internal import api_implementation\n"
        "sdk = next(d for d in ('flink-statefun', 'apache-flink-statefun') if any("
        "x.metadata['Name'] == d for x in m.distributions()))\n"
        "print(json.dumps({'sdk': sdk + ' ' + m.version(sdk), 'protobuf': m.version('protobuf'),"
        " 'protobuf_implementation': api_implementation.Type()}))"
    )
    return json.loads(
        subprocess.run(
            [str(python), "-c", probe], check=True, capture_output=True, text=True, env={"PYTHONPATH": SOURCE_PATH}
        ).stdout
    )


def dispatch(python: Path, bodies: Path, seconds: float) -> float:
    """Requests/s of dev/fraud_dev/bench/dispatch.py under `python`, on CPU 0."""
    output = subprocess.run(
        [str(python), "-m", "fraud_dev.bench.dispatch", "--bodies", str(bodies), "--seconds", str(seconds)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": SOURCE_PATH, "LOG_LEVEL": "WARNING"},
    ).stdout
    return float(json.loads(output.strip().splitlines()[-1])["requests_per_second"])


def run(seconds: float = 8, rounds: int = 3) -> dict:
    """Both packages on the steady-state mix; the section of docs/benchmarks.json this benchmark owns."""
    environments = {"flink-statefun": Path(sys.executable), "apache-flink-statefun": apache_python()}
    rates: dict[str, list[float]] = {name: [] for name in environments}
    with tempfile.TemporaryDirectory() as scratch:
        bodies = Path(scratch)
        write_bodies(bodies, steady_state_mix())
        mix = len(list(bodies.glob("*.bin")))
        for _ in range(rounds):
            for name, python in environments.items():
                rates[name].append(dispatch(python, bodies, seconds))
    results = {}
    for name, python in environments.items():
        requests = median(rates[name])
        results[name] = {
            **describe(python),
            "requests_per_second": requests,
            "transactions_per_second": round(requests / mix, 1),
        }
    ratios = [
        ours / theirs for ours, theirs in zip(rates["flink-statefun"], rates["apache-flink-statefun"], strict=True)
    ]
    return {
        "seconds_per_measurement": seconds,
        "rounds": rounds,
        "packages": results,
        "speedup": round(median(ratios), 2),
    }
