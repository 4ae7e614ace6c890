"""merchant: the one-hour cache (a cached 0 is a hit), the fallback and its short cache, batches."""

from __future__ import annotations

import json
from dataclasses import replace

from statefun import RequestReplyHandler, StatefulFunctions

from fraud_dev.mini_runtime import MiniRuntime
from fraud_dev.scripted import ScriptedMerchantClient, lookup_query
from fraud_functions.addresses import TRANSACTION_MANAGER
from fraud_functions.declarations import Resources, declared
from fraud_functions.functions.merchant import MERCHANT, MerchantFunction
from fraud_functions.live_models import LiveModels
from fraud_functions.messages import LookupAnswer
from fraud_functions.metrics import MERCHANT_LOOKUPS
from fraud_functions.scoring import RandomModel
from fraud_functions.settings import FunctionSettings
from tests.unit.counters import counted


class Clock:
    def __init__(self) -> None:
        self.ms = 1_000_000

    def __call__(self) -> int:
        return self.ms


def merchant_runtime(client, clock, cache_ttl=3600, degraded_ttl=60, fallback=50.0) -> MiniRuntime:
    settings = replace(
        FunctionSettings.from_env({}),
        merchant_cache_ttl_seconds=cache_ttl,
        merchant_degraded_ttl_seconds=degraded_ttl,
        merchant_fallback_score=fallback,
    )
    merchant = MerchantFunction(
        Resources(settings=settings, merchant_client=client, models=LiveModels.fixed(RandomModel())), clock_ms=clock
    )
    functions = StatefulFunctions()

    async def invoke(context, message):
        await merchant(context, message)

    (declaration,) = [item for item in declared() if item.typename == MERCHANT]
    functions.register(MERCHANT, invoke, declaration.state(settings))
    return MiniRuntime(RequestReplyHandler(functions))


async def ask(runtime, name: str, tx_id: str = "t1") -> dict:
    out = await runtime.invoke([lookup_query(MERCHANT, name, tx_id)])
    assert [(m.target, m.id, m.typename) for m in out] == [(TRANSACTION_MANAGER, tx_id, LookupAnswer.TYPENAME)]
    return json.loads(out[0].value)


def looked_up(source: str) -> float:
    return counted(MERCHANT_LOOKUPS, source)


async def test_first_query_asks_the_service_then_the_cache_answers():
    client, clock = ScriptedMerchantClient({"Hypergrid": 73}), Clock()
    runtime = merchant_runtime(client, clock)
    cached_before = looked_up("cache")
    first = await ask(runtime, "Hypergrid")
    second = await ask(runtime, "Hypergrid", "t2")
    assert (first["lookup"], first["values"], first["degraded"]) == ("merchant", {"score": 73}, False)
    assert (second["values"], second["transaction_id"]) == ({"score": 73}, "t2")
    assert client.calls == ["Hypergrid"] and looked_up("cache") == cached_before + 1


async def test_a_cached_zero_is_a_hit():
    client, clock = ScriptedMerchantClient({"Zeromart": 0}), Clock()
    runtime = merchant_runtime(client, clock)
    await ask(runtime, "Zeromart")
    assert (await ask(runtime, "Zeromart"))["values"] == {"score": 0}
    assert client.calls == ["Zeromart"]


async def test_cache_expires_after_its_ttl():
    client, clock = ScriptedMerchantClient({"Hypergrid": 10}), Clock()
    runtime = merchant_runtime(client, clock, cache_ttl=3600)
    await ask(runtime, "Hypergrid")
    clock.ms += 3599_000
    await ask(runtime, "Hypergrid")
    assert client.calls == ["Hypergrid"]
    clock.ms += 1_000
    await ask(runtime, "Hypergrid")
    assert client.calls == ["Hypergrid", "Hypergrid"]


async def test_state_ttl_is_declared_as_one_hour():
    runtime = merchant_runtime(ScriptedMerchantClient({"A": 1}), Clock())
    await ask(runtime, "A")
    spec = runtime.registered[MERCHANT]["cached"]
    assert spec.expiration_spec.expire_after_millis == 3_600_000


async def test_outage_gives_a_degraded_fallback_cached_only_briefly():
    client, clock = ScriptedMerchantClient({}), Clock()
    runtime = merchant_runtime(client, clock, degraded_ttl=60, fallback=42.0)
    before = looked_up("fallback")
    first = await ask(runtime, "Downshop")
    assert (first["values"], first["degraded"]) == ({"score": 42.0}, True)
    assert looked_up("fallback") == before + 1
    assert (await ask(runtime, "Downshop"))["degraded"] is True
    assert client.calls == ["Downshop"], "the fallback is cached"
    client.scores["Downshop"] = 12
    clock.ms += 60_000
    recovered = await ask(runtime, "Downshop")
    assert (recovered["values"], recovered["degraded"]) == ({"score": 12}, False)
    assert client.calls == ["Downshop", "Downshop"]


async def test_a_batch_of_queued_queries_costs_one_lookup_even_during_an_outage():
    client, clock = ScriptedMerchantClient({}), Clock()
    runtime = merchant_runtime(client, clock)
    out = await runtime.invoke([lookup_query(MERCHANT, "Downshop", f"t{i}") for i in range(50)])
    assert len(out) == 50 and {m.id for m in out} == {f"t{i}" for i in range(50)}
    assert all(json.loads(m.value)["degraded"] for m in out)
    assert client.calls == ["Downshop"]
