"""The HTTP server the StateFun runtime calls: POST /statefun, plus health and metrics.

One process per container, scaled by replicas (`python -m
fraud_functions.server`, ADR 0005): a plain ASGI application (no framework: a
routing table of four paths) on uvicorn with httptools and uvloop
(fraud_functions.serving). Every request is screened before the SDK sees it
(request_screen): a wrong content type gets a 415, a body over the limit a 413,
a body that is not a StateFun request a 400 with the reason, an unknown
function type a 404, so a misrouted or garbage request is told what is wrong
instead of crashing anything; an error that still escapes is logged, counted
and answered 500.

Shutdown (SIGTERM): readiness turns off, and for FUNCTIONS_SHUTDOWN_DRAIN_SECONDS
the server keeps answering, but with `Connection: close`, so the runtime's
pooled keep-alive connections move to other pods instead of landing on a
closed socket; then in-flight requests finish, and only then (the ASGI
lifespan shutdown) is the merchant-service client closed (a lookup in
progress completes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from statefun import RequestReplyHandler

from fraud_common.logs import configure_logging
from fraud_common.serving import ServingOptions, run_until_signalled
from fraud_common.settings import SettingsError
from fraud_common.tracing import traced_process
from fraud_functions.declarations import typenames
from fraud_functions.live_models import LiveModels
from fraud_functions.merchant_service_client import MerchantScores
from fraud_functions.metrics import (
    REJECTED_REQUESTS,
    batch_size,
    publish_known_series,
    request_duration,
)
from fraud_functions.request_screen import Rejected, dead_letter_batch, screen, screen_headers, screen_size
from fraud_functions.scoring import Model, ModelError
from fraud_functions.serving import LOOP_FACTORY, Receive, Scope, Send, UvicornServer
from fraud_functions.settings import FunctionSettings
from fraud_functions.wiring import merchant_service_client, provided_sources, wire

log = logging.getLogger(__name__)

EXIT_BAD_SETTINGS = 2
OCTET_STREAM = b"application/octet-stream"
JSON = b"application/json"
TEXT = b"text/plain; charset=utf-8"
CLOSE = (b"connection", b"close")


@dataclass(frozen=True, slots=True)
class Answer:
    """What a route answers: status, body and its content type (plus any other headers)."""

    status: int
    body: bytes
    content_type: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()


def text(status: int, message: str) -> Answer:
    return Answer(status, message.encode(), TEXT)


def as_json(status: int, value: object) -> Answer:
    return Answer(status, json.dumps(value).encode(), JSON)


class ClientGone(Exception):
    """The client disconnected before its request body arrived: there is no one to answer."""


async def read_body(receive: Receive) -> bytes:
    """The request body, refused (Rejected) as soon as it grows over the screen's limit (a chunked body has no
    Content-Length to check first)."""
    message = await receive()
    if not message.get("more_body", False):  # the usual case: the whole body in one message
        if message["type"] == "http.disconnect":
            raise ClientGone
        body: bytes = message.get("body", b"")
        screen_size(len(body))
        return body
    chunks: list[bytes] = []
    size = 0
    while True:
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        screen_size(size)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
        message = await receive()


def body_headers(scope: Scope) -> tuple[bytes | None, bytes | None]:
    """The request's Content-Type and Content-Length, in one pass (ASGI gives header names in lower case)."""
    content_type = content_length = None
    for key, value in scope["headers"]:
        if key == b"content-type":
            content_type = value
        elif key == b"content-length":
            content_length = value
    return content_type, content_length


Route = Callable[[Scope, Receive], Awaitable[Answer]]


class FunctionServer:
    """The ASGI application: the routes, readiness, and (in the ASGI lifespan) what runs while it serves."""

    def __init__(
        self, handler: RequestReplyHandler, client: MerchantScores, models: LiveModels, settings: FunctionSettings
    ) -> None:
        self._handler = handler
        self._client = client
        self._models = models
        self._settings = settings
        self._reloading: asyncio.Task[None] | None = None
        self._ready = False
        # path -> (method, route): what the server serves (tests/deploy checks the chart's probes against it).
        self.routes: dict[str, tuple[str, Route]] = {
            "/statefun": ("POST", self.statefun),
            "/healthz": ("GET", self.healthz),
            "/readyz": ("GET", self.readyz),
            "/metrics": ("GET", self.metrics),
        }

    def mark_not_ready(self) -> None:
        """What SIGTERM does first: /readyz answers 503 and every answer closes its connection."""
        self._ready = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        try:
            answer = await self._answer(scope, receive)
        except ClientGone:
            return
        # Content-Length, not chunked: the answer is whole before it is sent.
        headers = [
            (b"content-type", answer.content_type),
            (b"content-length", b"%d" % len(answer.body)),
            *answer.headers,
        ]
        if not self._ready and CLOSE not in answer.headers:
            headers.append(CLOSE)
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})

    async def _answer(self, scope: Scope, receive: Receive) -> Answer:
        found = self.routes.get(scope["path"])
        if found is None:
            return text(404, f"not found: {scope['path']}\n")
        method, route = found
        if scope["method"] != method:
            return Answer(405, f"method not allowed: use {method}\n".encode(), TEXT, ((b"allow", method.encode()),))
        return await route(scope, receive)

    async def statefun(self, scope: Scope, receive: Receive) -> Answer:
        try:
            screen_headers(*body_headers(scope))
            body = await read_body(receive)
            screened = screen(body)
        except Rejected as rejected:
            REJECTED_REQUESTS.labels(rejected.reason).inc()
            # A body refused unread (413) leaves the connection in no state to carry another request.
            closing = (CLOSE,) if rejected.status == 413 else ()
            return Answer(rejected.status, f"{rejected.reason}: {rejected.detail}\n".encode(), TEXT, closing)
        if not screened.has_id:
            REJECTED_REQUESTS.labels("empty_address_id").inc()
            log.error(
                "the runtime sent a batch to an empty address id; dead-lettering it",
                extra={"function": screened.typename},
            )
            return Answer(200, dead_letter_batch(screened), OCTET_STREAM)
        batch_size(screened.typename).observe(len(screened.request.invocation.invocations))
        with request_duration(screened.typename).time():
            try:
                response = await self._handler.handle_async(body)
            except Exception:  # a bug past the screen and the guard: say so, keep serving
                REJECTED_REQUESTS.labels("internal_error").inc()
                log.exception("request failed outside the functions", extra={"function": screened.typename})
                return text(500, "internal_error: see the function server's log\n")
        return Answer(200, response, OCTET_STREAM)

    async def healthz(self, _scope: Scope, _receive: Receive) -> Answer:
        return as_json(200, {"status": "ok"})

    async def readyz(self, _scope: Scope, _receive: Receive) -> Answer:
        if self._ready:
            return as_json(200, {"status": "ready"})
        return as_json(503, {"status": "not ready"})

    async def metrics(self, _scope: Scope, _receive: Receive) -> Answer:
        return Answer(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST.encode())

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """Start the client and the model reloading before serving; stop them after the last request finished."""
        await receive()  # lifespan.startup
        await self._client.start()
        every = self._settings.model_reload_seconds
        self._reloading = asyncio.create_task(reload_models(self._models, every)) if every > 0 else None
        self._ready = True
        log.info(
            "function server ready",
            extra={"model_version": self._models.champion.version, "port": self._settings.port},
        )
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        self._ready = False
        if self._reloading is not None:
            self._reloading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reloading
        await self._client.close()
        await send({"type": "lifespan.shutdown.complete"})


async def reload_models(models: LiveModels, every_seconds: float) -> None:
    """Re-read the model files every `every_seconds`, forever: promotion and rollback are a change of the files."""
    provided = provided_sources()
    while True:
        await asyncio.sleep(every_seconds)
        models.reload(provided)


def make_app(
    settings: FunctionSettings, models: LiveModels | Model, client: MerchantScores | None = None
) -> FunctionServer:
    """The application; `client` is injectable so tests can point it anywhere; a bare Model is never reloaded."""
    client = client or merchant_service_client(settings)
    if not isinstance(models, LiveModels):
        models = LiveModels.fixed(models, settings.alert_threshold)
    wiring = wire(settings, client, models)
    publish_known_series(typenames())
    return FunctionServer(RequestReplyHandler(wiring.functions), client, models, settings)


def main() -> int:
    """Serve in this process (local stack, tests); fails fast on bad settings or a bad model file.

    SIGTERM turns readiness off, keeps serving FUNCTIONS_SHUTDOWN_DRAIN_SECONDS
    (closing connections after each answer), then finishes in-flight requests
    (fraud_functions.serving).
    """
    configure_logging("functions")
    try:
        settings = FunctionSettings.from_env()
        models = LiveModels.load(settings)
        app = make_app(settings, models)
    except (SettingsError, ModelError) as err:
        log.error("cannot start: %s", err)
        return EXIT_BAD_SETTINGS
    options = ServingOptions(
        host=settings.host,
        port=settings.port,
        drain_seconds=settings.shutdown_drain_seconds,
        shutdown_timeout_seconds=settings.shutdown_timeout_seconds,
    )
    with traced_process("fraud-functions"):
        return run_until_signalled(UvicornServer(app, options, app.mark_not_ready), options, LOOP_FACTORY)


if __name__ == "__main__":
    sys.exit(main())
