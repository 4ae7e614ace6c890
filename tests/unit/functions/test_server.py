"""The HTTP surface, served by the real stack (uvicorn, httptools) on a loopback port: a StateFun request round
trip, the screen (garbage, oversized and mistyped bodies), health, readiness, metrics, tracing, and the drain."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from statefun.kafka_egress_pb2 import KafkaProducerRecord
from statefun.request_reply_pb2 import FromFunction, ToFunction

from fraud_common.contract import Outcome
from fraud_common.serving import ServingOptions
from fraud_dev.scripted import ScriptedMerchantClient
from fraud_functions import request_screen
from fraud_functions.declarations import typenames
from fraud_functions.messages import FeatureQuery
from fraud_functions.metrics import REJECTED_REQUESTS
from fraud_functions.scoring import load_model
from fraud_functions.server import FunctionServer, make_app
from fraud_functions.serving import UvicornServer
from tests.unit.counters import counted

OCTET_STREAM = {"Content-Type": "application/octet-stream"}


def served(app: FunctionServer, **options) -> UvicornServer:
    """The app on uvicorn on a free loopback port, stopped as SIGTERM stops it (`sleep` stands for the drain)."""
    sleep = options.pop("sleep", asyncio.sleep)
    return UvicornServer(
        app, ServingOptions("127.0.0.1", 0, shutdown_timeout_seconds=5, **options), app.mark_not_ready, sleep=sleep
    )


class Http:
    """A client of one running server: its base URL and an aiohttp session."""

    def __init__(self, server: UvicornServer, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.base = f"http://127.0.0.1:{server.port}"
        self.session = session

    async def post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        async with self.session.post(self.base + path, data=body, headers=headers or OCTET_STREAM) as response:
            return response.status, await response.read()

    async def get(self, path: str) -> aiohttp.ClientResponse:
        async with self.session.get(self.base + path) as response:
            await response.read()
            return response


@asynccontextmanager
async def running(app: FunctionServer) -> AsyncIterator[Http]:
    server = served(app)
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            yield Http(server, session)
    finally:
        await server.stop()


def scripted_app(settings, merchants: ScriptedMerchantClient | None = None) -> FunctionServer:
    model = load_model(settings.model_strategy, settings.model_path)
    return make_app(settings, model, client=merchants or ScriptedMerchantClient({"Hypergrid": 90}))


@pytest.fixture
async def client(settings) -> AsyncIterator[Http]:
    async with running(scripted_app(settings)) as http:
        yield http


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
    status, body = await client.post("/statefun", request_for("fraud", "transaction-manager"))
    assert status == 200
    answer = FromFunction()
    answer.ParseFromString(body)
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
        (with_caller(request_for("fraud", "merchant"), "fraud", "account", ""), "incomplete_caller"),
        (untyped(request_for("fraud", "account")), "untyped_argument"),
    ],
    ids=["empty", "garbage", "http", "no-invocation", "caller-without-type", "caller-without-id", "untyped"],
)
async def test_requests_the_sdk_could_not_handle_get_a_400_with_the_reason(client, body, reason):
    before = counted(REJECTED_REQUESTS, reason)
    status, answer = await client.post("/statefun", body)
    assert status == 400
    assert answer.decode().startswith(reason + ":")
    assert counted(REJECTED_REQUESTS, reason) == before + 1


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json", "text/plain", "application/octet-streamx", "multipart/form-data; boundary=x"],
)
async def test_a_body_of_another_content_type_gets_a_415_and_never_reaches_the_functions(client, content_type):
    before = counted(REJECTED_REQUESTS, "wrong_content_type")
    headers = {} if content_type is None else {"Content-Type": content_type}
    # a valid StateFun request: only its declared type is wrong
    async with client.session.post(
        client.base + "/statefun",
        data=request_for("fraud", "transaction-manager"),
        headers=headers,
        skip_auto_headers=["Content-Type"],
    ) as response:
        assert response.status == 415
        assert (await response.text()).startswith("wrong_content_type: expected application/octet-stream")
    assert counted(REJECTED_REQUESTS, "wrong_content_type") == before + 1


async def test_the_content_type_may_carry_parameters_and_any_case(client):
    status, _ = await client.post(
        "/statefun",
        request_for("fraud", "transaction-manager"),
        {"Content-Type": "Application/Octet-Stream; charset=binary"},
    )
    assert status == 200


async def test_a_body_over_the_limit_gets_a_413_whether_announced_or_chunked(client, monkeypatch):
    limit = 1024
    monkeypatch.setattr(request_screen, "MAX_REQUEST_BYTES", limit)
    before = counted(REJECTED_REQUESTS, "too_large")
    announced = b"\x00" * (limit + 1)  # Content-Length says it: refused before the body is read
    status, answer = await client.post("/statefun", announced)
    assert (status, answer.decode().split(":")[0]) == (413, "too_large")

    async def chunked():  # no Content-Length: refused once the chunks so far are over the limit
        for _ in range(4):
            yield b"\x00" * (limit // 2)

    status, answer = await client.post("/statefun", chunked())
    assert (status, answer.decode().split(":")[0]) == (413, "too_large")
    assert counted(REJECTED_REQUESTS, "too_large") == before + 2
    status, _ = await client.post("/statefun", request_for("fraud", "transaction-manager"))
    assert status == 200, "a request within the limit is still served"


def receiving(*messages: dict):
    """An ASGI receive channel that hands out `messages` in order."""
    pending = list(messages)

    async def receive() -> dict:
        return pending.pop(0)

    return receive


async def test_a_body_arriving_in_parts_is_refused_once_the_parts_so_far_are_over_the_limit(monkeypatch):
    from fraud_functions.server import read_body

    monkeypatch.setattr(request_screen, "MAX_REQUEST_BYTES", 1024)
    part = {"type": "http.request", "body": b"\x00" * 512, "more_body": True}
    with pytest.raises(request_screen.Rejected) as refused:
        await read_body(receiving(part, part, part))  # the third part is never asked for
    assert refused.value.reason == "too_large"
    last = {"type": "http.request", "body": b"\x01", "more_body": False}
    assert await read_body(receiving(part, last)) == b"\x00" * 512 + b"\x01"


async def test_a_client_gone_before_its_body_arrived_gets_no_answer():
    from fraud_functions.server import ClientGone, read_body

    part = {"type": "http.request", "body": b"\x00", "more_body": True}
    for messages in ([{"type": "http.disconnect"}], [part, {"type": "http.disconnect"}]):
        with pytest.raises(ClientGone):
            await read_body(receiving(*messages))


async def test_a_body_at_the_limit_is_read_whole(client, monkeypatch):
    body = request_for("fraud", "transaction-manager")
    monkeypatch.setattr(request_screen, "MAX_REQUEST_BYTES", len(body))
    status, _ = await client.post("/statefun", body)
    assert status == 200


async def test_unknown_paths_and_wrong_methods_are_told_so(client):
    assert (await client.get("/nothing")).status == 404
    wrong = await client.get("/statefun")
    assert (wrong.status, wrong.headers["Allow"]) == (405, "POST")
    status, _ = await client.post("/healthz", b"")
    assert status == 405


async def test_a_batch_for_an_empty_id_is_dead_lettered_instead_of_failing(client):
    # The SDK raises "target_id can not be missing" before any function code runs; the runtime would
    # retry the batch forever and fail the job.
    status, body = await client.post("/statefun", request_for("fraud", "account", address_id=""))
    assert status == 200
    answer = FromFunction()
    answer.ParseFromString(body)
    (egress,) = answer.invocation_result.outgoing_egresses
    assert (egress.egress_namespace, egress.egress_type) == ("fraud", "dead-letters")
    record = KafkaProducerRecord()
    record.ParseFromString(egress.argument.value)
    letter = json.loads(record.value_bytes)
    assert (record.topic, letter["reason"], letter["function"]) == (
        "dead-letters",
        "empty_address_id",
        "fraud/account",
    )
    assert letter["value"].startswith('{"account":"a"')
    assert not answer.invocation_result.state_mutations


async def test_an_unknown_function_type_gets_a_404_naming_what_is_served(client):
    status, body = await client.post("/statefun", request_for("other", "thing"))
    assert status == 404
    text = body.decode()
    assert "other/thing" in text and "fraud/transaction-manager" in text


async def test_health_and_readiness(client):
    health = await client.get("/healthz")
    assert health.status == 200 and (await health.json())["status"] == "ok"
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json())["status"] == "ready"


async def test_metrics_expose_samples_of_the_request_histogram(client):
    await client.post("/statefun", request_for("fraud", "transaction-manager"))
    response = await client.get("/metrics")
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples = {
        (sample.name, sample.labels.get("function")): sample.value
        for family in text_string_to_metric_families(await response.text())
        for sample in family.samples
    }
    assert samples[("fraud_function_request_seconds_count", "fraud/transaction-manager")] >= 1


@pytest.fixture
def traced_mix(spans) -> list[bytes]:
    """Two transactions' requests as the runtime sends them when the simulator traces: the first transaction's
    trace sampled (trace id 1), the second's not (trace id 2); tracing on in this process, no span left over."""
    from fraud_dev.bench.request_mix import steady_state_mix

    bodies = steady_state_mix(transactions=2, sampled_every=2)
    spans.clear()
    return bodies


async def test_requests_over_http_are_traced_as_their_trace_was_sampled(client, spans, traced_mix):
    for body in traced_mix:
        status, _ = await client.post("/statefun", body)
        assert status == 200
    finished = spans.get_finished_spans()
    assert any(span.name.startswith("invoke ") for span in finished)
    assert {span.context.trace_id for span in finished} == {1}, "the sampled trace only, none of the unsampled one"


async def test_sigterm_turns_readiness_off_keeps_serving_through_the_drain_then_refuses_connections(settings):
    """What serve_until_signalled does on SIGTERM (server.stop): readiness off first, the drain (a fake sleep
    that asks the server meanwhile, over new connections), then the socket closed."""
    app = scripted_app(settings)
    during: dict[str, object] = {}

    async def drain(seconds: float) -> None:
        during["seconds"] = seconds
        async with aiohttp.ClientSession() as fresh:
            async with fresh.get(f"{base}/readyz") as ready:
                during["readyz"] = ready.status
                during["connection"] = ready.headers.get("Connection")
            async with fresh.post(
                f"{base}/statefun", data=request_for("fraud", "transaction-manager"), headers=OCTET_STREAM
            ) as answer:
                during["statefun"] = answer.status

    server = served(app, drain_seconds=20, sleep=drain)
    await server.start()
    base = f"http://127.0.0.1:{server.port}"
    async with aiohttp.ClientSession() as session, session.get(f"{base}/readyz") as ready:
        assert ready.status == 200
    await server.stop()
    assert during == {"seconds": 20, "readyz": 503, "connection": "close", "statefun": 200}
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session, session.get(f"{base}/healthz"):
            pass


async def test_a_real_sigterm_stops_the_server_gracefully(settings):
    """serve_until_signalled, as main runs it: SIGTERM (sent to this process) reaches the project's handler, not
    uvicorn's; the server drains, finishes and stops serving, and the process is still here to say so."""
    import os
    import signal

    from fraud_common.serving import serve_until_signalled

    app = scripted_app(settings)
    drained: list[float] = []

    async def drain(seconds: float) -> None:
        drained.append(seconds)

    class Announced(UvicornServer):
        """Says when start has returned: serve_until_signalled installs its handlers before it next waits."""

        def __init__(self) -> None:
            super().__init__(
                app,
                ServingOptions("127.0.0.1", 0, drain_seconds=3, shutdown_timeout_seconds=5),
                app.mark_not_ready,
                sleep=drain,
            )
            self.started = asyncio.Event()

        async def start(self) -> None:
            await super().start()
            self.started.set()

    server = Announced()
    serving = asyncio.create_task(serve_until_signalled(server))
    await server.started.wait()
    base = f"http://127.0.0.1:{server.port}"
    async with aiohttp.ClientSession() as session, session.get(f"{base}/readyz") as ready:
        assert ready.status == 200
    os.kill(os.getpid(), signal.SIGTERM)
    await serving
    assert drained == [3]
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session, session.get(f"{base}/healthz"):
            pass


def content_length(head: bytes) -> int:
    (length,) = [line.split(b":")[1] for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")]
    return int(length)


async def test_while_draining_every_answer_closes_its_connection(settings):
    """A keep-alive connection opened before SIGTERM gets `Connection: close` on its next answer, and the server
    closes it (end of stream), so the runtime's pool opens its next connection elsewhere."""
    app = scripted_app(settings)
    server = served(app)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        request = b"GET /healthz HTTP/1.1\r\nHost: functions\r\n\r\n"
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and b"connection: close" not in head.lower()
        assert json.loads(await reader.readexactly(content_length(head))) == {"status": "ok"}
        app.mark_not_ready()  # what SIGTERM does first
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and b"connection: close" in head.lower()
        assert json.loads(await reader.readexactly(content_length(head))) == {"status": "ok"}
        assert await reader.read() == b"", "the server closed the connection"
        writer.close()
    finally:
        await server.stop()


async def test_shutdown_lets_a_merchant_lookup_in_progress_finish_before_closing_the_client(settings):
    """SIGTERM while a lookup is in flight: the request completes with the real score, then the client closes."""

    class SlowClient(ScriptedMerchantClient):
        def __init__(self) -> None:
            super().__init__({"Slowshop": 88})
            self.started = asyncio.Event()
            self.closed_while_busy: bool | None = None
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
    app = scripted_app(settings, merchants)
    server = served(app)
    await server.start()
    request = ToFunction()
    target = request.invocation.target
    target.namespace, target.type, target.id = "fraud", "merchant", "Slowshop"
    state = request.invocation.state.add()
    state.state_name = "cached"
    item = request.invocation.invocations.add()
    item.caller.namespace, item.caller.type, item.caller.id = "fraud", "transaction-manager", "tx-1"
    query = FeatureQuery("tx-1", "0x00F3CD51", "Slowshop", 10, "2026-11-27T10:00:00")
    item.argument.typename = query.TYPENAME
    item.argument.has_value = True
    item.argument.value = json.dumps(query.to_dict()).encode()
    async with aiohttp.ClientSession() as session:
        call = asyncio.create_task(
            session.post(
                f"http://127.0.0.1:{server.port}/statefun", data=request.SerializeToString(), headers=OCTET_STREAM
            )
        )
        await merchants.started.wait()
        await server.stop()  # what SIGTERM does
        response = await call
        answer = FromFunction()
        answer.ParseFromString(await response.read())
    (reply,) = answer.invocation_result.outgoing_messages
    answer_value = json.loads(reply.argument.value)
    assert (answer_value["answers"]["merchant"], answer_value["degraded"]) == ({"score": 88}, [])
    assert merchants.closed_while_busy is False, "closed, and only after the lookup finished"


def test_idle_connections_outlive_the_runtimes_connection_pool():
    """The runtime closes its idle pooled connections (pool_ttl) before the server would: a connection the
    server closed while the runtime reuses it would fail that request."""
    from fraud_dev import module_spec
    from fraud_functions.serving import KEEP_ALIVE_SECONDS

    docs = module_spec.documents(module_spec.rendered({}))
    (endpoint,) = [d["spec"] for d in docs if d["kind"] == "io.statefun.endpoints.v2/http"]
    pool_ttl = endpoint["transport"]["pool_ttl"]
    assert pool_ttl.endswith("s")
    assert int(pool_ttl[:-1]) < KEEP_ALIVE_SECONDS


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
