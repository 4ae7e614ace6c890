"""The requests the runtime sends the function server for one transaction, recorded from the real functions.

Steady state: the account's and the merchant's state exist and the merchant's
score is cached, so the mix is what most transactions cost: the transaction
record to transaction-manager, a query to every declared lookup and its answer
back, the values to the model and its score back (1 + 2 x lookups + 2 requests).
Recorded through the unit tests' miniature runtime (real protobufs, the real
SDK handler), so benchmarks replay exactly what the runtime would send.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

from statefun import RequestReplyHandler

from fraud_functions.declarations import lookups
from fraud_functions.scoring import load_model
from fraud_functions.settings import FunctionSettings
from fraud_functions.wiring import wire
from tests.unit.functions.conftest import ScriptedMerchantClient, transaction
from tests.unit.functions.harness import MiniRuntime


class RecordingRuntime(MiniRuntime):
    """A MiniRuntime that keeps every request body it sends once state is registered."""

    def __init__(self, handler: RequestReplyHandler) -> None:
        super().__init__(handler)
        self.recording = False
        self.bodies: list[bytes] = []

    def _request(self, target, address_id, batch) -> bytes:
        body = super()._request(target, address_id, batch)
        if self.recording:
            self.bodies.append(body)
        return body


def steady_state_mix() -> list[bytes]:
    """The request bodies of one transaction whose account and merchant are already known."""
    settings = replace(FunctionSettings.from_env({}))
    merchants = ScriptedMerchantClient({"Hypergrid": 42})
    runtime = RecordingRuntime(RequestReplyHandler(
        wire(settings, merchants, load_model(settings.model_strategy, settings.model_path)).functions))

    async def record() -> None:
        await runtime.deliver(transaction("warm-up", merchant="Hypergrid", amount=120))
        runtime.recording = True
        await runtime.deliver(transaction("measured", merchant="Hypergrid", amount=120))

    asyncio.run(record())
    expected = 1 + 2 * len(lookups()) + 2
    assert len(runtime.bodies) == expected, f"expected {expected} requests, recorded {len(runtime.bodies)}"
    return runtime.bodies


if __name__ == "__main__":
    print(json.dumps([len(body) for body in steady_state_mix()]))
