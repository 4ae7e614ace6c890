"""The HTTP server the StateFun runtime calls: POST /statefun, plus health and metrics.

One aiohttp process per container, scaled by replicas (`python -m
fraud_functions.server`). Every request is screened before the SDK sees it
(request_screen): a body that is not a StateFun request gets a 400 with the
reason, an unknown function type a 404, so a misrouted or garbage request is
told what is wrong instead of crashing anything; an error that still escapes
is logged, counted and answered 500.

Shutdown (SIGTERM): readiness turns off, and for FUNCTIONS_SHUTDOWN_DRAIN_SECONDS
the server keeps answering, but with `Connection: close`, so the runtime's
pooled keep-alive connections move to other pods instead of landing on a
closed socket; then in-flight requests finish, and only then is the
merchant-service client closed (a lookup in progress completes).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from statefun import RequestReplyHandler

from fraud_common.logs import configure_logging
from fraud_common.serving import GracefulServer, ServingOptions, run_until_signalled
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
from fraud_functions.request_screen import Rejected, dead_letter_batch, screen
from fraud_functions.scoring import Model, ModelError
from fraud_functions.settings import FunctionSettings
from fraud_functions.wiring import merchant_service_client, provided_sources, wire

log = logging.getLogger(__name__)

HANDLER = web.AppKey("handler", RequestReplyHandler)
CLIENT = web.AppKey("client", MerchantScores)
READY = web.AppKey("ready", dict)
EXIT_BAD_SETTINGS = 2
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The largest request body accepted. The runtime's largest request is one address's batch:
# maxNumBatchRequests messages of at most MAX_RECORD_BYTES each (the ingress cuts larger records
# short) plus the address's state; tests/unit/functions/test_size_limits.py checks the margin.
MAX_REQUEST_BYTES = 16 * 1024 * 1024


async def statefun(request: web.Request) -> web.Response:
    body = await request.read()
    try:
        screened = screen(body)
    except Rejected as rejected:
        REJECTED_REQUESTS.labels(rejected.reason).inc()
        return web.Response(status=rejected.status, text=f"{rejected.reason}: {rejected.detail}\n")
    if not screened.has_id:
        REJECTED_REQUESTS.labels("empty_address_id").inc()
        log.error(
            "the runtime sent a batch to an empty address id; dead-lettering it", extra={"function": screened.typename}
        )
        return web.Response(body=dead_letter_batch(screened), content_type="application/octet-stream")
    batch_size(screened.typename).observe(len(screened.request.invocation.invocations))
    with request_duration(screened.typename).time():
        try:
            response = await request.app[HANDLER].handle_async(body)
        except Exception:  # a bug past the screen and the guard: say so, keep serving
            REJECTED_REQUESTS.labels("internal_error").inc()
            log.exception("request failed outside the functions", extra={"function": screened.typename})
            return web.Response(status=500, text="internal_error: see the function server's log\n")
    return web.Response(body=response, content_type="application/octet-stream")


def closing_while_draining(handler: Handler) -> Handler:
    """The handler, answering with `Connection: close` once readiness is off, so clients reconnect elsewhere.

    A plain wrapper, not an aiohttp middleware: the middleware chain cost every
    request more than the screen and the metrics together (docs/benchmarks.md).
    """

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        response = await handler(request)
        if not request.app[READY]["ready"]:
            response.force_close()
        return response

    return wrapped


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    if request.app[READY]["ready"]:
        return web.json_response({"status": "ready"})
    return web.json_response({"status": "not ready"}, status=503)


async def metrics(_: web.Request) -> web.Response:
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def reload_models(models: LiveModels, every_seconds: float) -> None:
    """Re-read the model files every `every_seconds`, forever: promotion and rollback are a change of the files."""
    provided = provided_sources()
    while True:
        await asyncio.sleep(every_seconds)
        models.reload(provided)


def model_reloading(models: LiveModels, every_seconds: float) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context running reload_models while the server runs (none when `every_seconds` is 0)."""

    async def run(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(reload_models(models, every_seconds)) if every_seconds > 0 else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return run


def make_app(
    settings: FunctionSettings, models: LiveModels | Model, client: MerchantScores | None = None
) -> web.Application:
    """The application; `client` is injectable so tests can point it anywhere; a bare Model is never reloaded."""
    client = client or merchant_service_client(settings)
    if not isinstance(models, LiveModels):
        models = LiveModels.fixed(models, settings.alert_threshold)
    wiring = wire(settings, client, models)
    publish_known_series(typenames())
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[HANDLER] = RequestReplyHandler(wiring.functions)
    app[CLIENT] = client
    app[READY] = {"ready": False}

    async def start(app: web.Application) -> None:
        await app[CLIENT].start()
        app[READY]["ready"] = True
        log.info("function server ready", extra={"model_version": models.champion.version, "port": settings.port})

    async def not_ready(app: web.Application) -> None:
        app[READY]["ready"] = False

    async def close_client(app: web.Application) -> None:
        # on_cleanup runs after in-flight requests have finished; on_shutdown runs before.
        await app[CLIENT].close()

    app.on_startup.append(start)
    app.on_shutdown.append(not_ready)
    app.on_cleanup.append(close_client)
    app.cleanup_ctx.append(model_reloading(models, settings.model_reload_seconds))
    app.router.add_post("/statefun", closing_while_draining(statefun))
    app.router.add_get("/healthz", closing_while_draining(healthz))
    app.router.add_get("/readyz", closing_while_draining(readyz))
    app.router.add_get("/metrics", closing_while_draining(metrics))
    return app


def main() -> int:
    """Serve in this process (local stack, tests); fails fast on bad settings or a bad model file.

    SIGTERM turns readiness off, keeps serving FUNCTIONS_SHUTDOWN_DRAIN_SECONDS
    (closing connections after each answer), then finishes in-flight requests
    (fraud_common.serving).
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
        return run_until_signalled(GracefulServer(app, options, lambda: app[READY].update(ready=False)), options)


if __name__ == "__main__":
    sys.exit(main())
