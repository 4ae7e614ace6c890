"""The requests the runtime sends the function server for a transaction, recorded from the real functions.

Steady state: the account's and the merchant's state exist and the merchant's
score is cached, so the mix is what most transactions cost: the transaction
record to transaction-manager, its query to the first key's function, on to
every next key's, and the last key's answers back (2 + keys requests, ADR 0016;
before it, 1 + 2 x lookups + 2 for the model: 11). Recorded through the unit
tests' miniature runtime (real protobufs, the real SDK handler), so benchmarks
replay exactly what the runtime would send. `costs` counts the requests of the
cases ADR 0016 quotes: steady state, a new account, a new merchant, the very
first transaction (`python -m fraud_dev.bench.request_mix --costs`).

A traced recording is what the runtime carries when the simulator traces: each
transaction record has a `traceparent`, one in `sampled_every` of them with the
sampled flag, and every message between functions carries its trace. It is
recorded in a process of its own (`python -m fraud_dev.bench.request_mix`), because
OpenTelemetry's tracer provider is set once per process and the benchmark's own
process must keep tracing off for the in-process ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable

from statefun import RequestReplyHandler

from fraud_dev.mini_runtime import Envelope, MiniRuntime
from fraud_dev.paths import REPO_ROOT
from fraud_dev.scripted import ScriptedMerchantClient, transaction
from fraud_functions.declarations import keys
from fraud_functions.scoring import load_model
from fraud_functions.settings import FunctionSettings
from fraud_functions.wiring import wire


class RecordingRuntime(MiniRuntime):
    """A MiniRuntime that keeps every request body it sends once state is registered."""

    def __init__(self, handler: RequestReplyHandler) -> None:
        super().__init__(handler)
        self.recording = False
        self.bodies: list[bytes] = []

    def request(self, target: str, address_id: str, batch: list[Envelope]) -> bytes:
        body = super().request(target, address_id, batch)
        if self.recording:
            self.bodies.append(body)
        return body


def requests_per_transaction() -> int:
    """The transaction record, one query per key (each key's function sends it on), the answers back."""
    return 2 + len(keys())


def _traceparent(index: int, sampled_every: int) -> str:
    flags = "01" if index % sampled_every == 0 else "00"
    return f"00-{index + 1:032x}-{index + 1:016x}-{flags}"


def recording_runtime() -> RecordingRuntime:
    """The real functions, wired as the server wires them, behind a recording miniature runtime."""
    settings = FunctionSettings.from_env({})
    merchants = ScriptedMerchantClient({"Hypergrid": 42, "Newshop": 7})
    return RecordingRuntime(
        RequestReplyHandler(
            wire(settings, merchants, load_model(settings.model_strategy, settings.model_path)).functions
        )
    )


def steady_state_mix(transactions: int = 1, sampled_every: int = 0) -> list[bytes]:
    """The request bodies of `transactions` transactions whose account and merchant are already known.

    With `sampled_every` > 0 the records carry traceparents and tracing must be on in this process.
    """
    runtime = recording_runtime()

    def record(index: int) -> bytes:
        value = {"account": "0x00F3CD51", "merchant": "Hypergrid", "amount": 120, "timestamp": "2026-11-27T10:00:00"}
        if sampled_every:
            value["traceparent"] = _traceparent(index, sampled_every)
        return json.dumps(value).encode()

    async def replay() -> None:
        await runtime.deliver(transaction("warm-up", raw=record(0)))
        runtime.recording = True
        for index in range(transactions):
            await runtime.deliver(transaction(f"measured-{index}", raw=record(index)))

    asyncio.run(replay())
    expected = transactions * requests_per_transaction()
    assert len(runtime.bodies) == expected, f"expected {expected} requests, recorded {len(runtime.bodies)}"
    return runtime.bodies


def costs() -> dict[str, int]:
    """Requests the runtime sends for one transaction, by case, counted through the real functions.

    `first_transaction` includes the one missing-state round trip of each function type (once per runtime
    start, not per key); a new account or a new merchant costs no request more than a known one (a new
    merchant costs one call to merchant-service, which is not a runtime request).
    """
    runtime = recording_runtime()

    async def count(deliver: Callable[[], Awaitable[None]]) -> int:
        before = len(runtime.bodies)
        await deliver()
        return len(runtime.bodies) - before

    async def measure() -> dict[str, int]:
        runtime.recording = True
        return {
            "first_transaction": await count(lambda: runtime.deliver(transaction("first"))),
            "known_account_and_merchant": await count(lambda: runtime.deliver(transaction("known"))),
            "new_account": await count(lambda: runtime.deliver(transaction("new-account", account="0x0BADCAFE"))),
            "new_merchant": await count(lambda: runtime.deliver(transaction("new-merchant", merchant="Newshop"))),
        }

    return asyncio.run(measure())


def traced_mix(transactions: int, sampled_every: int) -> list[bytes]:
    """steady_state_mix with traces, recorded in a child process with tracing on."""
    output = subprocess.run(
        [
            sys.executable,
            "-m",
            "fraud_dev.bench.request_mix",
            "--transactions",
            str(transactions),
            "--sampled-every",
            str(sampled_every),
        ],
        check=True,
        capture_output=True,
        cwd=REPO_ROOT,
    ).stdout
    return [bytes.fromhex(line) for line in output.decode().split()]


def _trace_in_this_process() -> None:
    """A tracer provider that samples as the servers do (parent-based) and exports nothing."""
    from opentelemetry.sdk.trace import TracerProvider

    from fraud_common import tracing

    tracing.trace_with(TracerProvider())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=1)
    parser.add_argument("--sampled-every", type=int, default=0)
    parser.add_argument("--costs", action="store_true", help="print the requests of one transaction, by case")
    args = parser.parse_args(argv)
    if args.costs:
        print(json.dumps(costs(), indent=2))
        return 0
    if args.sampled_every:
        _trace_in_this_process()
    for body in steady_state_mix(args.transactions, args.sampled_every):
        print(body.hex())
    return 0


if __name__ == "__main__":
    sys.exit(main())
