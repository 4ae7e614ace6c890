"""A tiny HTTP server for the simulator's pod probes and Prometheus scrape.

The simulator is a Kafka client with no HTTP of its own; in Kubernetes its
liveness probe needs a route that answers while the event loop is alive, and
`/metrics` exposes the process's default Prometheus collectors. Off unless
SIMULATOR_HEALTH_PORT is set (the container image sets it).
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest


async def healthz(_: web.Request) -> web.Response:
    """Liveness: answering at all means the event loop runs."""
    return web.json_response({"status": "ok"})


async def metrics(_: web.Request) -> web.Response:
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


async def start_health_server(host: str, port: int) -> web.AppRunner:
    """Serve make_app() on host:port in the running loop; the caller calls `cleanup()` on the result."""
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
