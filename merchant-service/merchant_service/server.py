"""Process entry point: settings, logging, serving and graceful shutdown (see fraud_common.serving)."""

from __future__ import annotations

import asyncio
import logging
import sys

from aiohttp import web

from fraud_common.logs import configure_logging
from fraud_common.serving import GracefulServer, ServingOptions, run_until_signalled
from fraud_common.settings import SettingsError
from fraud_common.tracing import traced_process
from merchant_service.app import make_app, mark_not_ready
from merchant_service.faults import Sleep
from merchant_service.settings import Settings

log = logging.getLogger("merchant_service.server")

EXIT_BAD_SETTINGS = 2


def serving_options(settings: Settings) -> ServingOptions:
    return ServingOptions(
        host=settings.host,
        port=settings.port,
        drain_seconds=settings.shutdown_drain_seconds,
        shutdown_timeout_seconds=settings.shutdown_timeout_seconds,
        access_log=settings.access_log,
    )


def graceful_server(app: web.Application, settings: Settings, *, sleep: Sleep = asyncio.sleep) -> GracefulServer:
    """The merchant-service app behind a graceful server; readiness turns off first on shutdown."""
    return GracefulServer(app, serving_options(settings), lambda: mark_not_ready(app), sleep=sleep)


def main() -> int:
    """Console script `merchant-service`; returns the process exit code."""
    configure_logging("merchant-service")
    try:
        settings = Settings.from_env()
    except SettingsError as err:
        log.error("invalid settings: %s", err)
        return EXIT_BAD_SETTINGS
    with traced_process("merchant-service"):
        return run_until_signalled(graceful_server(make_app(settings), settings), serving_options(settings))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
