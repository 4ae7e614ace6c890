"""The SDK's handler behind the thinnest HTTP servers, to show what the HTTP stack alone costs.

Not serving paths: no screen, no metrics, no tracing, no drain. The function
server benchmark runs them beside the real server so that its gap to the
in-process ceiling splits into what HTTP costs (bare aiohttp; a bare ASGI app on
uvicorn with httptools and uvloop, the fastest Python stack measured) and what
the server adds on top.

    python -m fraud_dev.bench.bare_servers aiohttp PORT
    uvicorn fraud_dev.bench.bare_servers:asgi_app --port PORT ...
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from fraud_dev.bench.dispatch import handler

HANDLER = handler()
OK = b'{"status":"ok"}'


async def _statefun(request: web.Request) -> web.Response:
    return web.Response(body=await HANDLER.handle_async(await request.read()), content_type="application/octet-stream")


async def _healthz(_: web.Request) -> web.Response:
    return web.Response(body=OK, content_type="application/json")


def aiohttp_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/statefun", _statefun)
    app.router.add_get("/healthz", _healthz)
    return app


Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def asgi_app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """POST /statefun to the SDK's handler, anything else answered as the health check."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["path"] != "/statefun":
        body, content_type = OK, b"application/json"
    else:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body, content_type = await HANDLER.handle_async(b"".join(chunks)), b"application/octet-stream"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", content_type)]})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    web.run_app(aiohttp_app(), host="127.0.0.1", port=int(sys.argv[2]), print=None, access_log=None)
