"""The aiohttp application: routes, error handling, metrics and readiness.

`make_app` takes everything from its arguments (no globals, no environment),
so tests can build several independent apps with a fake RNG and a fake sleep.
"""

from __future__ import annotations

import hmac
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import hdrs, web
from opentelemetry import trace

from fraud_common import tracing
from merchant_service.faults import (
    FaultConfigError,
    FaultInjector,
    FaultSettings,
    Sleep,
    apply_update,
)
from merchant_service.metrics import Metrics, create_metrics
from merchant_service.scoring import InvalidMerchant, risk_score, validate_merchant
from merchant_service.settings import Settings

log = logging.getLogger("merchant_service.app")
TRACER = tracing.tracer("merchant_service")

# Admin bodies are three numbers; anything large is a mistake or an attack.
MAX_BODY_BYTES = 16 * 1024
ADMIN_PREFIX = "/admin/"
# Route label for requests that matched no route: keeps metric cardinality bounded.
UNMATCHED_ROUTE = "unmatched"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class AppState:
    """Mutable per-app state shared by the handlers."""

    settings: Settings
    injector: FaultInjector
    metrics: Metrics
    ready: bool = False


STATE: web.AppKey[AppState] = web.AppKey("merchant_service_state", AppState)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """Every error is JSON `{"error": ...}` so clients never have to parse HTML."""
    return web.json_response({"error": message}, status=status, headers=headers)


def _route_label(request: web.Request) -> str:
    """The route template (not the raw path), so merchant names do not explode cardinality."""
    resource = request.match_info.route.resource
    if resource is None:
        return UNMATCHED_ROUTE
    return resource.canonical


def _http_error_message(request: web.Request, exc: web.HTTPException) -> str:
    if exc.status == 404:
        return f"no route for {request.method} {request.path}"
    if exc.status == 405:
        return f"method {request.method} is not allowed on {request.path}"
    return exc.reason


@web.middleware
async def observe_and_handle_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time every request, turn HTTP errors into JSON and crashes into 500.

    An exception escaping a handler must never kill the service or leak a stack
    trace to the client: it is logged with the trace and answered 500.
    """
    state = request.app[STATE]
    route = _route_label(request)
    started = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        # Keep headers such as Allow (405); drop the plain-text body's own type/length.
        kept = {key: value for key, value in exc.headers.items() if key not in (hdrs.CONTENT_TYPE, hdrs.CONTENT_LENGTH)}
        response = error_response(exc.status, _http_error_message(request, exc), kept)
    except Exception:
        log.exception("unhandled error", extra={"method": request.method, "path": request.path, "route": route})
        response = error_response(500, "internal server error")
    state.metrics.requests.labels(route=route, code=str(response.status)).inc()
    state.metrics.duration.labels(route=route).observe(time.perf_counter() - started)
    return response


async def get_score(request: web.Request) -> web.Response:
    """GET /merchants/{merchant}/score: the stable risk score, after injected faults.

    The name is validated before faults are applied, so a caller's bad input is
    always a deterministic 400 and never masked by an injected 503.
    """
    state = request.app[STATE]
    raw = request.match_info["merchant"]
    try:
        merchant = validate_merchant(raw)
    except InvalidMerchant as err:
        return error_response(400, str(err))
    if await state.injector.inject():
        state.metrics.injected_failures.inc()
        return error_response(503, "injected failure")
    return web.json_response({"merchant": merchant, "score": risk_score(merchant)})


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the event loop answers; nothing else is checked on purpose."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: 200 while serving, 503 once shutdown began so traffic drains away."""
    if request.app[STATE].ready:
        return web.json_response({"status": "ready"})
    return web.json_response({"status": "shutting down"}, status=503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    """Prometheus exposition of this app's registry."""
    body, content_type = request.app[STATE].metrics.render()
    return web.Response(body=body, headers={hdrs.CONTENT_TYPE: content_type})


@web.middleware
async def trace_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A server span per request, continuing the caller's trace (the `traceparent` header)."""
    if not tracing.enabled():
        return await handler(request)
    route = _route_label(request)
    with TRACER.start_as_current_span(
        f"{request.method} {route}",
        kind=trace.SpanKind.SERVER,
        context=tracing.context_from_headers(request.headers),
        attributes={"http.request.method": request.method, "http.route": route},
    ) as span:
        response = await handler(request)
        span.set_attribute("http.response.status_code", response.status)
        if response.status >= 500:
            span.set_status(trace.StatusCode.ERROR)
        return response


@web.middleware
async def require_admin_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The admin routes answer only a caller that presents the token: `Authorization: Bearer <token>`."""
    if not request.path.startswith(ADMIN_PREFIX):
        return await handler(request)
    expected = f"Bearer {request.app[STATE].settings.admin_token}".encode()
    presented = request.headers.get(hdrs.AUTHORIZATION, "").encode()
    if not hmac.compare_digest(presented, expected):
        return error_response(
            401,
            "the admin endpoint needs 'Authorization: Bearer <MERCHANT_ADMIN_TOKEN>'",
            {hdrs.WWW_AUTHENTICATE: "Bearer"},
        )
    return await handler(request)


async def get_faults(request: web.Request) -> web.Response:
    """GET /admin/faults: the fault settings in force."""
    return web.json_response(request.app[STATE].injector.settings.to_dict())


async def put_faults(request: web.Request) -> web.Response:
    """PUT /admin/faults: change any subset of the fault settings, all or nothing."""
    state = request.app[STATE]
    raw = await request.read()
    try:
        body = json.loads(raw)
    except ValueError as err:  # JSONDecodeError and UnicodeDecodeError (non-UTF body)
        return error_response(400, f"body is not valid JSON: {err}")
    try:
        updated = apply_update(state.injector.settings, body)
    except FaultConfigError as err:
        return error_response(400, str(err))
    previous = state.injector.settings
    state.injector.update(updated)
    state.metrics.observe_faults(updated)
    log.info("fault settings changed", extra={"previous": previous.to_dict(), "current": updated.to_dict()})
    return web.json_response(updated.to_dict())


def mark_not_ready(app: web.Application) -> None:
    """Flip readiness to 503; the first step of a graceful shutdown."""
    if app[STATE].ready:
        log.info("readiness off: shutdown began")
    app[STATE].ready = False


async def _on_startup(app: web.Application) -> None:
    app[STATE].ready = True


async def _on_shutdown(app: web.Application) -> None:
    mark_not_ready(app)


def make_app(
    settings: Settings,
    *,
    rng: random.Random | None = None,
    sleep: Sleep | None = None,
) -> web.Application:
    """Build the application.

    `rng` defaults to a Random seeded with settings.fault_seed (None = entropy);
    `sleep` defaults to asyncio.sleep. Raises FaultConfigError on invalid faults.
    """
    faults = FaultSettings(
        latency_ms_min=settings.latency_ms_min,
        latency_ms_max=settings.latency_ms_max,
        error_rate=settings.error_rate,
    )
    metrics = create_metrics()
    metrics.observe_faults(faults)
    injector = FaultInjector(
        faults,
        rng=rng if rng is not None else random.Random(settings.fault_seed),
        sleep=sleep,
    )
    middlewares = [trace_requests, observe_and_handle_errors]
    if settings.admin_enabled:
        middlewares.append(require_admin_token)
    app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY_BYTES)
    app[STATE] = AppState(settings=settings, injector=injector, metrics=metrics)
    # [\s\S]* rather than the default [^{}/]+: an encoded or raw '/', a newline
    # or an empty name must reach the validator (400), not fall through to 404.
    app.router.add_get(r"/merchants/{merchant:[\s\S]*}/score", get_score)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    if settings.admin_enabled:
        app.router.add_get(f"{ADMIN_PREFIX}faults", get_faults)
        app.router.add_put(f"{ADMIN_PREFIX}faults", put_faults)
    app.on_startup.append(_on_startup)
    app.on_shutdown.append(_on_shutdown)
    return app
