"""The merchant's risk score (fraud/merchant): the one-hour cache (a cached 0 is a hit), the fallback and its
short cache, batches."""

from __future__ import annotations

import json
from dataclasses import replace

from statefun import RequestReplyHandler, StatefulFunctions

from fraud_dev.mini_runtime import MiniRuntime
from fraud_dev.scripted import ScriptedMerchantClient, feature_query
from fraud_functions.addresses import TRANSACTION_MANAGER
from fraud_functions.declarations import MERCHANT, Resources, features, key_functions
from fraud_functions.functions.merchant import MERCHANT_RISK, MerchantRisk
from fraud_functions.live_models import LiveModels
from fraud_functions.messages import FeatureAnswers
from fraud_functions.metrics import MERCHANT_LOOKUPS
from fraud_functions.outcomes import guarded
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
    # The merchant's function as declared, its one feature built with the test's clock.
    (risk,) = [item for item in features() if item.name == MERCHANT_RISK]
    timed = replace(risk, factory=lambda resources: MerchantRisk(resources, clock_ms=clock))
    resources = Resources(settings=settings, merchant_client=client, models=LiveModels.fixed(RandomModel()))
    (declaration,) = key_functions([timed])
    functions = StatefulFunctions()
    functions.register(
        MERCHANT.typename, guarded(MERCHANT.typename, declaration.factory(resources)), declaration.state(settings)
    )
    return MiniRuntime(RequestReplyHandler(functions))


def answer_of(message) -> dict:
    """The merchant's answer in a FeatureAnswers: its values, whether degraded, the transaction."""
    body = json.loads(message.value)
    return {
        "values": body["answers"][MERCHANT_RISK],
        "degraded": MERCHANT_RISK in body["degraded"],
        "transaction_id": body["transaction_id"],
    }


async def ask(runtime, name: str, tx_id: str = "t1") -> dict:
    out = await runtime.invoke([feature_query(MERCHANT.typename, name, tx_id, merchant=name)])
    assert [(m.target, m.id, m.typename) for m in out] == [(TRANSACTION_MANAGER, tx_id, FeatureAnswers.TYPENAME)]
    return answer_of(out[0])


def looked_up(source: str) -> float:
    return counted(MERCHANT_LOOKUPS, source)


async def test_first_query_asks_the_service_then_the_cache_answers():
    client, clock = ScriptedMerchantClient({"Hypergrid": 73}), Clock()
    runtime = merchant_runtime(client, clock)
    cached_before = looked_up("cache")
    first = await ask(runtime, "Hypergrid")
    second = await ask(runtime, "Hypergrid", "t2")
    assert (first["values"], first["degraded"]) == ({"score": 73}, False)
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
    spec = runtime.registered[MERCHANT.typename]["cached"]
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
    out = await runtime.invoke(
        [feature_query(MERCHANT.typename, "Downshop", f"t{i}", merchant="Downshop") for i in range(50)]
    )
    assert len(out) == 50 and {m.id for m in out} == {f"t{i}" for i in range(50)}
    assert all(answer_of(m)["degraded"] for m in out)
    assert client.calls == ["Downshop"]
