"""Where a Python process spends its CPU: py-spy samples, summed by layer and by function.

Used on the function server under wrk (dev/fraud_dev/bench/function_server.py) so that each
optimization in docs/benchmarks.md has a before and after profile. py-spy
samples the running process from outside (no instrumentation, so the profile
does not change what it measures); its collapsed-stack output is summed two
ways: by layer (the package a sample's innermost frame belongs to) and by the
innermost function itself.

Usage: python -m fraud_dev.bench.profile --pid PID --seconds 10
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

# The layer of a frame, by the first pattern its file path matches; the order matters.
LAYERS: tuple[tuple[str, str], ...] = (
    ("fraud functions", r"(^|/)(fraud_functions|fraud_common)/"),
    ("statefun SDK", r"(^|/)statefun/"),
    ("protobuf", r"(^|/)google/protobuf/"),
    ("OpenTelemetry", r"(^|/)opentelemetry/"),
    ("prometheus-client", r"(^|/)prometheus_client/"),
    ("uvicorn (HTTP server)", r"(^|/)(uvicorn|httptools|h11)/"),
    ("aiohttp (HTTP)", r"(^|/)(aiohttp|multidict|yarl)/"),
    ("JSON", r"(^|/)json/"),
    ("dataclasses", r"(^|/)dataclasses\.py$"),
    ("asyncio event loop", r"(^|/)(asyncio|uvloop)/|(^|/)selectors\.py$"),
)
FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


@dataclass(frozen=True)
class Profile:
    samples: int
    layers: dict[str, float]
    top_functions: list[tuple[str, float]]


def layer_of(file: str) -> str:
    for name, pattern in LAYERS:
        if re.search(pattern, file):
            return name
    return "other (interpreter, stdlib)"


def summarize(collapsed: str, top: int = 15) -> Profile:
    """Sum py-spy's collapsed stacks (`frame;frame;... count`) by the innermost frame's layer and function."""
    layers: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        innermost = stack.split(";")[-1]
        found = FRAME.match(innermost)
        file = found.group("file") if found else ""
        name = f"{found.group('function')} ({Path(file).name})" if found else innermost
        layers[layer_of(file)] += samples
        functions[name] += samples
        total += samples
    share = lambda count: round(100 * count / total, 1) if total else 0.0  # noqa: E731
    return Profile(
        total,
        {name: share(count) for name, count in layers.most_common()},
        [(name, share(count)) for name, count in functions.most_common(top)],
    )


def record(pid: int, seconds: float, rate: int = 250) -> Profile:
    """Sample `pid` for `seconds` with py-spy, itself on CPU 1 beside the load generator, off the server's core."""
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "profile.txt"
        subprocess.run(
            [
                "taskset",
                "-c",
                "1",
                py_spy(),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(int(seconds)),
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--output",
                str(output),
                "--nonblocking",
                "--full-filenames",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return summarize(output.read_text())


def py_spy() -> str:
    """py-spy from this interpreter's environment (the `bench` extra installs it)."""
    return str(Path(sys.executable).with_name("py-spy"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args(argv)
    print(json.dumps(asdict(record(args.pid, args.seconds)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
