"""In-process SDK dispatch: the request bodies handed straight to the SDK's handler, no HTTP, one core.

This is the ceiling for any Python function server: what is left when the
network, the HTTP parser, the screen and the metrics are taken away is the SDK
parsing the request, running the function and serializing the response. The
function-server benchmark compares its HTTP figures with this one in the same
run; the SDK comparison runs this module under each Python SDK package
(`python -m fraud_dev.bench.dispatch --bodies DIR`), so it imports only what both
packages' environments have: the SDK, the functions, no test code.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from statefun import RequestReplyHandler

from fraud_functions.scoring import load_model
from fraud_functions.settings import FunctionSettings
from fraud_functions.wiring import merchant_service_client, wire


@dataclass(frozen=True)
class Dispatched:
    requests_per_second: float
    requests: int
    seconds: float


@contextmanager
def pinned(cpu: int) -> Iterator[None]:
    """Run this process on one CPU for the duration (the figures are per core)."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def handler() -> RequestReplyHandler:
    """The same handler the server builds (server.make_app), from default settings and the shipped model.

    The merchant-service client is never started: the steady-state mix finds the
    merchant's score cached, so no request reaches it.
    """
    settings = FunctionSettings.from_env({})
    model = load_model(settings.model_strategy, settings.model_path)
    return RequestReplyHandler(wire(settings, merchant_service_client(settings), model).functions)


def dispatch_rate(bodies: list[bytes], seconds: float, cpu: int = 0) -> Dispatched:
    """Replay `bodies` in a loop through the SDK's handler for `seconds` (after a one-second warm-up)."""
    target = handler()

    async def replay(duration: float) -> tuple[int, float]:
        done, started = 0, time.perf_counter()
        deadline = started + duration
        while time.perf_counter() < deadline:
            for body in bodies:
                await target.handle_async(body)
            done += len(bodies)
        return done, time.perf_counter() - started

    with pinned(cpu):
        asyncio.run(replay(1.0))
        gc.collect()
        done, elapsed = asyncio.run(replay(seconds))
    return Dispatched(round(done / elapsed, 1), done, round(elapsed, 2))


def read_bodies(folder: Path) -> list[bytes]:
    return [path.read_bytes() for path in sorted(folder.glob("*.bin"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bodies", type=Path, required=True, help="folder of NNN.bin request bodies")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--cpu", type=int, default=0)
    args = parser.parse_args(argv)
    result = dispatch_rate(read_bodies(args.bodies), args.seconds, args.cpu)
    print(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
