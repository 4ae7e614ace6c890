"""The function server's HTTP stack: an ASGI app on uvicorn (httptools parser, uvloop event loop), stopped gracefully.

uvicorn rather than aiohttp because the HTTP stack was the largest cost left
between the server and the in-process ceiling: the same handler behind a bare
ASGI app on uvicorn with httptools and uvloop answers 1.24x what it answers
behind bare aiohttp (ADR 0005, docs/benchmarks.md).

The steps of a stop are the project's (fraud_common.serving), not uvicorn's:
uvicorn would react to SIGTERM by closing its socket at once. So the signals
stay with `serve_until_signalled`, and `stop` turns readiness off, keeps serving
for the drain (the app answers with `Connection: close` meanwhile), and only then
lets uvicorn close the socket (new connections are refused), finish the requests
in flight (at most `shutdown_timeout_seconds`) and run the app's lifespan
shutdown (the merchant-service client closes after the last lookup).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

import uvicorn
import uvloop

from fraud_common.serving import DrainingServer, ServingOptions, Sleep

log = logging.getLogger(__name__)

# ASGI 3 (asgi.readthedocs.io): an app is called with the connection's scope and two channels.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The event loop the server runs on (fraud_common.serving.run_until_signalled's loop_factory).
LOOP_FACTORY: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop

# How long an idle keep-alive connection stays open. It must outlast the runtime's pooled connections
# (module spec transport.pool_ttl, 15s): the runtime, not the server, closes an idle connection, so a reuse
# never races a close. 75 s is what aiohttp kept before (tests/unit/functions/test_server.py checks it).
KEEP_ALIVE_SECONDS = 75
# Connections the kernel queues before the server accepts them (uvicorn's default).
BACKLOG = 2048
# How often `start` looks whether uvicorn has begun serving (uvicorn itself ticks every 0.1 s).
STARTED_POLL_SECONDS = 0.005


class _SignalsLeftAlone(uvicorn.Server):
    """uvicorn's Server without its own SIGINT/SIGTERM handlers: they belong to serve_until_signalled."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that a taken port is an OSError (uvicorn would exit the process)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=BACKLOG)


class UvicornServer(DrainingServer):
    """One ASGI app bound to host:port on uvicorn, with the project's graceful `stop` (DrainingServer).

    The app's lifespan startup runs in `start` before anything is served, its
    lifespan shutdown in `close` after the last request in flight has finished.
    """

    def __init__(
        self,
        app: ASGIApp,
        options: ServingOptions,
        mark_not_ready: Callable[[], None],
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(options, mark_not_ready, sleep=sleep)
        self._server = _SignalsLeftAlone(
            uvicorn.Config(
                app,
                host=options.host,
                port=options.port,
                http="httptools",
                ws="none",
                interface="asgi3",
                lifespan="on",
                log_config=None,
                access_log=options.access_log,
                proxy_headers=False,
                server_header=False,
                timeout_keep_alive=KEEP_ALIVE_SECONDS,
                # uvicorn takes whole seconds: rounded up, in-flight requests get at least what was asked.
                timeout_graceful_shutdown=math.ceil(options.shutdown_timeout_seconds),
                backlog=BACKLOG,
            )
        )
        self._socket: socket.socket | None = None
        self._serving: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Bind the socket, run the app's lifespan startup (readiness turns on there) and start serving."""
        self._socket = bind(self._options.host, self._options.port)
        self._serving = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._serving.done():
                self._serving.result()  # raises what stopped it
                raise RuntimeError("the HTTP server stopped while starting")
            await asyncio.sleep(STARTED_POLL_SECONDS)
        log.info("serving", extra={"addresses": [str(self._socket.getsockname())]})

    @property
    def port(self) -> int:
        """The bound port (useful when started on port 0)."""
        if self._socket is None:
            raise RuntimeError("not started")
        return int(self._socket.getsockname()[1])

    async def close(self) -> None:
        """uvicorn closes the socket, waits for the requests in flight, then runs the app's lifespan shutdown."""
        if self._serving is None or self._serving.done():
            if self._socket is not None:
                self._socket.close()
            return
        self._server.should_exit = True
        await self._serving
