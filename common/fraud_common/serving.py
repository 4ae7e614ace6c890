"""Serving with a Kubernetes-friendly shutdown: the signal handling every server shares, and aiohttp's server.

aiohttp's `web.run_app` closes the listening socket *before* it runs the
on_shutdown hooks, so a readiness flip there comes too late for Kubernetes to
stop routing traffic. Here SIGTERM/SIGINT first turn readiness off, then the
server keeps serving for a drain period (while endpoints are updated), then
stops accepting and lets in-flight requests finish.

The steps of a stop are `DrainingServer.stop`'s, whatever serves: the aiohttp
`GracefulServer` here (merchant-service), or the function server's uvicorn one
(fraud_functions.serving).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class ServingOptions:
    host: str
    port: int
    drain_seconds: float = 0.0
    shutdown_timeout_seconds: float = 10.0
    access_log: bool = False


class DrainingServer(ABC):
    """A server stopped as Kubernetes wants it: readiness off, a drain while still serving, then closed.

    Subclasses bind (`start`) and close (`close`): aiohttp's here, uvicorn's in fraud_functions.serving.
    """

    def __init__(
        self, options: ServingOptions, mark_not_ready: Callable[[], None], *, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._options = options
        self._mark_not_ready = mark_not_ready
        self._sleep = sleep

    @abstractmethod
    async def start(self) -> None:
        """Bind the socket and start serving (readiness turns on as the app starts)."""

    @abstractmethod
    async def close(self) -> None:
        """Stop accepting connections, let in-flight requests finish, then run the app's cleanup."""

    async def stop(self) -> None:
        """Readiness off, drain while still serving, then close and finish in-flight requests."""
        self._mark_not_ready()
        if self._options.drain_seconds > 0:
            log.info("draining", extra={"seconds": self._options.drain_seconds})
            await self._sleep(self._options.drain_seconds)
        await self.close()
        log.info("stopped")


class GracefulServer(DrainingServer):
    """One aiohttp app bound to host:port, with an explicit graceful `stop`."""

    def __init__(
        self,
        app: web.Application,
        options: ServingOptions,
        mark_not_ready: Callable[[], None],
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(options, mark_not_ready, sleep=sleep)
        self._runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=logging.getLogger("aiohttp.access") if options.access_log else None,
            shutdown_timeout=options.shutdown_timeout_seconds,
        )

    async def start(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, self._options.host, self._options.port).start()
        log.info("serving", extra={"addresses": [str(a) for a in self._runner.addresses]})

    @property
    def port(self) -> int:
        """The bound port (useful when started on port 0)."""
        return int(self._runner.addresses[0][1])

    async def close(self) -> None:
        await self._runner.cleanup()


async def serve_until_signalled(server: DrainingServer) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully."""
    try:
        await server.start()
    except BaseException:
        await server.stop()
        raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
        log.info("shutdown requested")
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await server.stop()


def run_until_signalled(
    server: DrainingServer,
    options: ServingOptions,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> int:
    """Process entry: serve on a new event loop (`loop_factory`'s, asyncio's by default); a port that cannot be
    bound is one clear log line and exit code 1."""
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(serve_until_signalled(server))
    except OSError as err:
        log.error("cannot serve on %s:%s: %s", options.host, options.port, err)
        return 1
    return 0
