"""The HTTP surface: a real StateFun request round trip, garbage bodies, health, readiness, metrics."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from statefun.kafka_egress_pb2 import KafkaProducerRecord
from statefun.request_reply_pb2 import FromFunction, ToFunction

from fraud_common.contract import Outcome
from fraud_dev.scripted import ScriptedMerchantClient
from fraud_functions.declarations import typenames
from fraud_functions.messages import LookupQuery
from fraud_functions.metrics import REJECTED_REQUESTS
from fraud_functions.scoring import load_model
from fraud_functions.server import make_app
from tests.unit.counters import counted


@pytest.fixture
async def client(aiohttp_client, settings):
    app = make_app(
        settings,
        load_model(settings.model_strategy, settings.model_path),
        client=ScriptedMerchantClient({"Hypergrid": 90}),
    )
    return await aiohttp_client(app)


def request_for(namespace: str, kind: str, address_id: str = "id") -> bytes:
    request = ToFunction()
    request.invocation.target.namespace = namespace
    request.invocation.target.type = kind
    request.invocation.target.id = address_id
    item = request.invocation.invocations.add()
    item.argument.typename = "fraud/Transaction"
    item.argument.has_value = True
    item.argument.value = b'{"account":"a","merchant":"Hypergrid","amount":1,"timestamp":"2026-11-27T10:00:00"}'
    return request.SerializeToString()


async def test_a_statefun_request_gets_a_protobuf_answer(client):
    response = await client.post(
        "/statefun",
        data=request_for("fraud", "transaction-manager"),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status == 200
    answer = FromFunction()
    answer.ParseFromString(await response.read())
    # no state was sent, so the SDK asks the runtime to register the declared state first
    assert [v.state_name for v in answer.incomplete_invocation_context.missing_values] == ["pending", "decided"]


def with_caller(body: bytes, namespace: str, kind: str, address_id: str) -> bytes:
    request = ToFunction()
    request.ParseFromString(body)
    caller = request.invocation.invocations[0].caller
    caller.namespace, caller.type, caller.id = namespace, kind, address_id
    return request.SerializeToString()


def untyped(body: bytes) -> bytes:
    request = ToFunction()
    request.ParseFromString(body)
    request.invocation.invocations[0].argument.typename = ""
    return request.SerializeToString()


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"", "empty_body"),
        (b"\xff\xff\xff\xff garbage", "not_protobuf"),
        (b"GET / HTTP/1.1", "not_protobuf"),
        (b"\x12\x00", "no_invocation"),  # a valid protobuf with only an unknown field
        (with_caller(request_for("fraud", "merchant"), "fraud", "", "x"), "incomplete_caller"),
        (with_caller(request_for("fraud", "merchant"), "fraud", "model", ""), "incomplete_caller"),
        (untyped(request_for("fraud", "model")), "untyped_argument"),
    ],
    ids=["empty", "garbage", "http", "no-invocation", "caller-without-type", "caller-without-id", "untyped"],
)
async def test_requests_the_sdk_could_not_handle_get_a_400_with_the_reason(client, body, reason):
    before = counted(REJECTED_REQUESTS, reason)
    response = await client.post("/statefun", data=body)
    assert response.status == 400
    assert (await response.text()).startswith(reason + ":")
    assert counted(REJECTED_REQUESTS, reason) == before + 1


async def test_a_batch_for_an_empty_id_is_dead_lettered_instead_of_failing(client):
    # The SDK raises "target_id can not be missing" before any function code runs; the runtime would
    # retry the batch forever and fail the job.
    response = await client.post("/statefun", data=request_for("fraud", "fraud-count", address_id=""))
    assert response.status == 200
    answer = FromFunction()
    answer.ParseFromString(await response.read())
    (egress,) = answer.invocation_result.outgoing_egresses
    assert (egress.egress_namespace, egress.egress_type) == ("fraud", "dead-letters")
    record = KafkaProducerRecord()
    record.ParseFromString(egress.argument.value)
    letter = json.loads(record.value_bytes)
    assert (record.topic, letter["reason"], letter["function"]) == (
        "dead-letters",
        "empty_address_id",
        "fraud/fraud-count",
    )
    assert letter["value"].startswith('{"account":"a"')
    assert not answer.invocation_result.state_mutations


async def test_an_unknown_function_type_gets_a_404_naming_what_is_served(client):
    response = await client.post("/statefun", data=request_for("other", "thing"))
    assert response.status == 404
    text = await response.text()
    assert "other/thing" in text and "fraud/transaction-manager" in text


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json())["status"] == "ready"


async def test_readiness_flips_on_shutdown(aiohttp_client, settings):
    from fraud_functions.server import READY

    app = make_app(settings, load_model(settings.model_strategy, settings.model_path), ScriptedMerchantClient())
    client = await aiohttp_client(app)
    assert (await client.get("/readyz")).status == 200
    await app.shutdown()
    assert app[READY]["ready"] is False
    assert (await client.get("/readyz")).status == 503


async def test_metrics_expose_samples_of_the_request_histogram(client):
    await client.post("/statefun", data=request_for("fraud", "transaction-manager"))
    text = await (await client.get("/metrics")).text()
    samples = {
        (sample.name, sample.labels.get("function")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples[("fraud_function_request_seconds_count", "fraud/transaction-manager")] >= 1


async def test_while_draining_every_answer_closes_its_connection(aiohttp_client, settings):
    from fraud_functions.server import READY

    app = make_app(settings, load_model(settings.model_strategy, settings.model_path), ScriptedMerchantClient())
    client = await aiohttp_client(app)
    assert (await client.get("/healthz")).headers.get("Connection", "").lower() != "close"
    app[READY]["ready"] = False  # what SIGTERM does first
    response = await client.get("/healthz")
    assert response.status == 200 and response.headers["Connection"].lower() == "close"


async def test_shutdown_lets_a_merchant_lookup_in_progress_finish_before_closing_the_client(settings):
    """SIGTERM while a lookup is in flight: the request completes with the real score, then the client closes."""
    from fraud_common.serving import GracefulServer, ServingOptions
    from fraud_functions.server import READY

    class SlowClient(ScriptedMerchantClient):
        def __init__(self) -> None:
            super().__init__({"Slowshop": 88})
            self.started = asyncio.Event()
            self.closed_while_busy = False
            self.busy = False

        async def score(self, merchant: str):
            self.busy = True
            self.started.set()
            await asyncio.sleep(0.3)
            self.busy = False
            return await super().score(merchant)

        async def close(self) -> None:
            self.closed_while_busy = self.busy

    merchants = SlowClient()
    app = make_app(settings, load_model(settings.model_strategy, settings.model_path), merchants)
    server = GracefulServer(
        app, ServingOptions("127.0.0.1", 0, shutdown_timeout_seconds=5), lambda: app[READY].update(ready=False)
    )
    await server.start()
    request = ToFunction()
    target = request.invocation.target
    target.namespace, target.type, target.id = "fraud", "merchant", "Slowshop"
    state = request.invocation.state.add()
    state.state_name = "cached"
    item = request.invocation.invocations.add()
    item.caller.namespace, item.caller.type, item.caller.id = "fraud", "transaction-manager", "tx-1"
    query = LookupQuery("tx-1", "0x00F3CD51", "Slowshop", 10, "2026-11-27T10:00:00")
    item.argument.typename = query.TYPENAME
    item.argument.has_value = True
    item.argument.value = json.dumps(query.to_dict()).encode()
    async with aiohttp.ClientSession() as session:
        call = asyncio.create_task(
            session.post(f"http://127.0.0.1:{server.port}/statefun", data=request.SerializeToString())
        )
        await merchants.started.wait()
        await server.stop()  # what SIGTERM does
        response = await call
        answer = FromFunction()
        answer.ParseFromString(await response.read())
    (reply,) = answer.invocation_result.outgoing_messages
    answer_value = json.loads(reply.argument.value)
    assert (answer_value["values"], answer_value["degraded"]) == ({"score": 88}, False)
    assert merchants.closed_while_busy is False


@pytest.mark.parametrize(
    "variable, value",
    [
        ("MODEL_PATH", "/nonexistent/model.json"),
        ("CHALLENGER_MODEL_PATH", "/nonexistent/challenger.json"),
        ("FUNCTIONS_PORT", "x"),
    ],
)
def test_main_refuses_to_start_with_bad_settings_or_model(monkeypatch, variable, value):
    from fraud_functions import server

    monkeypatch.setenv(variable, value)
    assert server.main() == server.EXIT_BAD_SETTINGS


def test_main_reports_a_taken_port_as_exit_code_one(monkeypatch):
    import socket

    from fraud_functions import server

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        monkeypatch.setenv("FUNCTIONS_PORT", str(holder.getsockname()[1]))
        assert server.main() == 1


def test_series_with_known_labels_exist_at_zero_before_their_first_event():
    from fraud_functions.metrics import publish_known_series

    publish_known_series(["test/never-invoked"])
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(generate_latest(REGISTRY).decode())
        for sample in family.samples
    }
    assert samples[("fraud_function_errors_total", (("function", "test/never-invoked"),))] == 0
    assert samples[("fraud_function_request_seconds_count", (("function", "test/never-invoked"),))] == 0
    assert ("fraud_decisions_total", (("degraded", "false"), ("outcome", Outcome.EXPIRED))) in samples


async def test_the_server_publishes_every_declared_functions_series(client):
    text = await (await client.get("/metrics")).text()
    errors = {
        sample.labels["function"]
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "fraud_function_errors_total"
    }
    assert errors >= set(typenames())
