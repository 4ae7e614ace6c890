"""The HTTP server the StateFun runtime calls: POST /statefun, plus health and metrics.

Runs directly (`fraud-functions`, one process, for local work) or under gunicorn
with the aiohttp worker in containers (`gunicorn fraud_functions.server:app_factory
--worker-class aiohttp.GunicornWebWorker`). A body that is not a StateFun
request gets a 400 with the reason, an unknown function type a 404, so a
misrouted or garbage request is told what is wrong instead of crashing anything.
"""

from __future__ import annotations

import logging
import os
import sys

from aiohttp import web
from google.protobuf.message import DecodeError
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from statefun import RequestReplyHandler
from statefun.request_reply_pb2 import ToFunction

from fraud_common.logs import configure_logging
from fraud_common.serving import GracefulServer, ServingOptions, run_until_signalled
from fraud_common.settings import SettingsError
from fraud_functions.addresses import ALL_FUNCTIONS
from fraud_functions.merchant_client import MerchantScoreClient
from fraud_functions.metrics import REQUEST_DURATION
from fraud_functions.model import Model, ModelError, load_model
from fraud_functions.settings import FunctionSettings
from fraud_functions.wiring import merchant_client, wire

log = logging.getLogger(__name__)

HANDLER = web.AppKey("handler", RequestReplyHandler)
CLIENT = web.AppKey("client", MerchantScoreClient)
READY = web.AppKey("ready", dict)
EXIT_BAD_SETTINGS = 2


class BadRequest(web.HTTPBadRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(text=reason + "\n")


def target_of(body: bytes) -> str:
    """The function type a request addresses; raises an HTTP error for anything that is not a valid request."""
    if not body:
        raise BadRequest("empty body: expected a serialized io.statefun ToFunction message")
    request = ToFunction()
    try:
        request.ParseFromString(body)
    except DecodeError as err:
        raise BadRequest(f"body is not a ToFunction protobuf message: {err}") from None
    if not request.HasField("invocation"):
        raise BadRequest("ToFunction message carries no invocation batch")
    target = request.invocation.target
    typename = f"{target.namespace}/{target.type}"
    if typename not in ALL_FUNCTIONS:
        raise web.HTTPNotFound(text=f"unknown function type {typename!r}; served: {', '.join(ALL_FUNCTIONS)}\n")
    return typename


async def statefun(request: web.Request) -> web.Response:
    body = await request.read()
    typename = target_of(body)
    with REQUEST_DURATION.labels(typename).time():
        response = await request.app[HANDLER].handle_async(body)
    return web.Response(body=response, content_type="application/octet-stream")


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    if request.app[READY]["ready"]:
        return web.json_response({"status": "ready"})
    return web.json_response({"status": "not ready"}, status=503)


async def metrics(_: web.Request) -> web.Response:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


def make_app(settings: FunctionSettings, model: Model, client: MerchantScoreClient | None = None) -> web.Application:
    """The application; `client` is injectable so tests can point it anywhere."""
    client = client or merchant_client(settings)
    wiring = wire(settings, client, model)
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[HANDLER] = RequestReplyHandler(wiring.functions)
    app[CLIENT] = client
    app[READY] = {"ready": False}

    async def start(app: web.Application) -> None:
        await app[CLIENT].start()
        app[READY]["ready"] = True
        log.info("function server ready", extra={"model_version": model.version, "port": settings.port})

    async def stop(app: web.Application) -> None:
        app[READY]["ready"] = False
        await app[CLIENT].close()

    app.on_startup.append(start)
    app.on_shutdown.append(stop)
    app.router.add_post("/statefun", statefun)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


async def app_factory() -> web.Application:
    """Entry point for gunicorn's aiohttp worker."""
    configure_logging("functions")
    settings = FunctionSettings.from_env()
    return make_app(settings, load_model(settings.model_strategy, settings.model_path))


def main() -> int:
    """Serve in this process (local stack, tests); fails fast on bad settings or a bad model file.

    SIGTERM turns readiness off, keeps serving FUNCTIONS_SHUTDOWN_DRAIN_SECONDS,
    then finishes in-flight requests (fraud_common.serving).
    """
    configure_logging("functions")
    try:
        settings = FunctionSettings.from_env()
        model = load_model(settings.model_strategy, settings.model_path)
    except (SettingsError, ModelError) as err:
        log.error("cannot start: %s", err)
        return EXIT_BAD_SETTINGS
    app = make_app(settings, model)
    options = ServingOptions(host=settings.host, port=settings.port, drain_seconds=settings.shutdown_drain_seconds,
                             shutdown_timeout_seconds=settings.shutdown_timeout_seconds)
    return run_until_signalled(GracefulServer(app, options, lambda: app[READY].update(ready=False)), options)


if __name__ == "__main__":
    sys.exit(main())
