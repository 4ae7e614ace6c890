"""The HTTP surface: a real StateFun request round trip, garbage bodies, health, readiness, metrics."""

from __future__ import annotations

import pytest
from statefun.request_reply_pb2 import FromFunction, ToFunction

from fraud_functions.model import load_model
from fraud_functions.server import make_app
from tests.unit.functions.conftest import ScriptedMerchantClient


@pytest.fixture
async def client(aiohttp_client, settings):
    app = make_app(settings, load_model(settings.model_strategy, settings.model_path),
                   client=ScriptedMerchantClient({"Hypergrid": 90}))
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
    response = await client.post("/statefun", data=request_for("fraud", "transaction-manager"),
                                 headers={"Content-Type": "application/octet-stream"})
    assert response.status == 200
    answer = FromFunction()
    answer.ParseFromString(await response.read())
    # no state was sent, so the SDK asks the runtime to register the declared state first
    assert [v.state_name for v in answer.incomplete_invocation_context.missing_values] == ["pending"]


@pytest.mark.parametrize("body, fragment", [
    (b"", "empty body"),
    (b"\xff\xff\xff\xff garbage", "not a ToFunction"),
    (b"GET / HTTP/1.1", "not a ToFunction"),
])
async def test_garbage_bodies_get_a_400_with_the_reason(client, body, fragment):
    response = await client.post("/statefun", data=body)
    assert response.status == 400
    assert fragment in await response.text()


async def test_a_message_without_an_invocation_is_rejected(client):
    response = await client.post("/statefun", data=b"\x12\x00")  # a valid protobuf with only an unknown field
    assert response.status == 400
    assert "no invocation" in await response.text()


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


async def test_metrics_expose_the_pipeline_counters(client):
    await client.post("/statefun", data=request_for("fraud", "transaction-manager"))
    text = await (await client.get("/metrics")).text()
    for name in ("fraud_function_request_seconds_bucket", "fraud_dead_letters_total",
                 "fraud_merchant_lookups_total", "fraud_transactions_scored_total"):
        assert name in text
    assert 'fraud_function_request_seconds_count{function="fraud/transaction-manager"}' in text


@pytest.mark.parametrize("variable, value", [("MODEL_PATH", "/nonexistent/model.json"), ("FUNCTIONS_PORT", "x")])
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
