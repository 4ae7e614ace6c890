"""Process entry point: settings, logging, serving and graceful shutdown.

aiohttp's `web.run_app` closes the listening socket *before* it runs the
on_shutdown hooks, so a readiness flip there comes too late for Kubernetes to
stop routing traffic. Signals are therefore handled here: SIGTERM/SIGINT first
flip readiness to 503, then wait MERCHANT_SHUTDOWN_DRAIN_SECONDS while still
serving, then stop accepting and let in-flight requests finish.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web

from fraud_common.logs import configure_logging
from fraud_common.settings import SettingsError
from merchant_service.app import make_app, mark_not_ready
from merchant_service.faults import Sleep
from merchant_service.settings import Settings

log = logging.getLogger("merchant_service.server")

EXIT_BAD_SETTINGS = 2


class Server:
    """One app bound to host:port, with an explicit graceful `stop`."""

    def __init__(self, app: web.Application, settings: Settings, *, sleep: Sleep = asyncio.sleep) -> None:
        self._app = app
        self._settings = settings
        self._sleep = sleep
        self._runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
            shutdown_timeout=settings.shutdown_timeout_seconds,
        )

    async def start(self) -> None:
        """Bind the socket and start serving (readiness turns on in on_startup)."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._settings.host, self._settings.port)
        await site.start()
        log.info("serving", extra={"addresses": [str(a) for a in self._runner.addresses]})

    @property
    def port(self) -> int:
        """The bound port (useful when started on port 0)."""
        return int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Readiness off, drain while still serving, then close and finish in-flight requests."""
        mark_not_ready(self._app)
        if self._settings.shutdown_drain_seconds > 0:
            log.info("draining", extra={"seconds": self._settings.shutdown_drain_seconds})
            await self._sleep(self._settings.shutdown_drain_seconds)
        await self._runner.cleanup()
        log.info("stopped")


async def run(settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully."""
    server = Server(make_app(settings), settings)
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


def main() -> int:
    """Console script `merchant-service`; returns the process exit code."""
    configure_logging("merchant-service")
    try:
        settings = Settings.from_env()
    except SettingsError as err:
        log.error("invalid settings: %s", err)
        return EXIT_BAD_SETTINGS
    try:
        asyncio.run(run(settings))
    except OSError as err:  # e.g. port already in use: a clear line, not a trace
        log.error("cannot serve on %s:%s: %s", settings.host, settings.port, err)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
