"""merchant: the one-hour cache (a cached 0 is a hit), the fallback and its short cache, batches."""

from __future__ import annotations

import json

from fraud_functions.addresses import MERCHANT, TRANSACTION_MANAGER
from fraud_functions.merchant import MerchantScorer
from fraud_functions.messages import MerchantScore, QueryMerchant
from fraud_functions.metrics import MERCHANT_LOOKUPS
from statefun import RequestReplyHandler, StatefulFunctions

from fraud_functions import merchant
from tests.unit.functions.conftest import ScriptedMerchantClient
from tests.unit.functions.harness import Envelope, MiniRuntime


class Clock:
    def __init__(self) -> None:
        self.ms = 1_000_000

    def __call__(self) -> int:
        return self.ms


def merchant_runtime(client, clock, cache_ttl=3600, degraded_ttl=60, fallback=50.0) -> MiniRuntime:
    functions = StatefulFunctions()
    scorer = MerchantScorer(client, cache_ttl_seconds=cache_ttl, degraded_ttl_seconds=degraded_ttl,
                            fallback_score=fallback, clock_ms=clock)

    async def invoke(context, message):
        await scorer(context, message)

    functions.register(MERCHANT, invoke, merchant.state_specs(cache_ttl))
    return MiniRuntime(RequestReplyHandler(functions))


def query(name: str, tx_id: str = "t1") -> Envelope:
    return Envelope(MERCHANT, name, QueryMerchant.TYPENAME, json.dumps({"transaction_id": tx_id}).encode(),
                    caller=(TRANSACTION_MANAGER, tx_id))


async def ask(runtime, name: str, tx_id: str = "t1") -> dict:
    out = await runtime.invoke([query(name, tx_id)])
    assert [(m.target, m.id, m.typename) for m in out] == [(TRANSACTION_MANAGER, tx_id, MerchantScore.TYPENAME)]
    return json.loads(out[0].value)


async def test_first_query_asks_the_service_then_the_cache_answers():
    client, clock = ScriptedMerchantClient({"Hypergrid": 73}), Clock()
    runtime = merchant_runtime(client, clock)
    first = await ask(runtime, "Hypergrid")
    second = await ask(runtime, "Hypergrid", "t2")
    assert (first["score"], first["source"], first["degraded"]) == (73, "service", False)
    assert (second["score"], second["source"], second["transaction_id"]) == (73, "cache", "t2")
    assert client.calls == ["Hypergrid"]


async def test_a_cached_zero_is_a_hit():
    client, clock = ScriptedMerchantClient({"Zeromart": 0}), Clock()
    runtime = merchant_runtime(client, clock)
    await ask(runtime, "Zeromart")
    again = await ask(runtime, "Zeromart")
    assert (again["score"], again["source"]) == (0, "cache")
    assert client.calls == ["Zeromart"]


async def test_cache_expires_after_its_ttl():
    client, clock = ScriptedMerchantClient({"Hypergrid": 10}), Clock()
    runtime = merchant_runtime(client, clock, cache_ttl=3600)
    await ask(runtime, "Hypergrid")
    clock.ms += 3599_000
    assert (await ask(runtime, "Hypergrid"))["source"] == "cache"
    clock.ms += 1_000
    assert (await ask(runtime, "Hypergrid"))["source"] == "service"
    assert client.calls == ["Hypergrid", "Hypergrid"]


async def test_state_ttl_is_declared_as_one_hour():
    runtime = merchant_runtime(ScriptedMerchantClient({"A": 1}), Clock())
    await ask(runtime, "A")
    spec = runtime.registered[MERCHANT]["cached"]
    assert spec.expiration_spec.expire_after_millis == 3_600_000


async def test_outage_gives_a_degraded_fallback_cached_only_briefly():
    client, clock = ScriptedMerchantClient({}), Clock()
    runtime = merchant_runtime(client, clock, degraded_ttl=60, fallback=42.0)
    before = MERCHANT_LOOKUPS.labels("fallback")._value.get()
    first = await ask(runtime, "Downshop")
    assert (first["score"], first["degraded"], first["source"]) == (42.0, True, "fallback")
    assert MERCHANT_LOOKUPS.labels("fallback")._value.get() == before + 1
    cached = await ask(runtime, "Downshop")
    assert (cached["degraded"], cached["source"]) == (True, "cache")
    client.scores["Downshop"] = 12
    clock.ms += 60_000
    recovered = await ask(runtime, "Downshop")
    assert (recovered["score"], recovered["degraded"], recovered["source"]) == (12, False, "service")
    assert client.calls == ["Downshop", "Downshop"]


async def test_a_batch_of_queued_queries_costs_one_lookup_even_during_an_outage():
    client, clock = ScriptedMerchantClient({}), Clock()
    runtime = merchant_runtime(client, clock)
    out = await runtime.invoke([query("Downshop", f"t{i}") for i in range(50)])
    assert len(out) == 50 and {m.id for m in out} == {f"t{i}" for i in range(50)}
    assert all(json.loads(m.value)["degraded"] for m in out)
    assert client.calls == ["Downshop"]
