"""Graceful shutdown on a real socket: readiness off first, still serving while draining."""

from __future__ import annotations

import aiohttp
import pytest

from merchant_service.app import STATE, make_app
from merchant_service.server import graceful_server
from merchant_service.settings import Settings


async def test_stop_flips_readiness_before_closing_the_socket() -> None:
    settings = Settings(host="127.0.0.1", port=0, shutdown_drain_seconds=5.0)
    app = make_app(settings)
    seen_during_drain: list[tuple[float, int, int]] = []

    async def drain(seconds: float) -> None:
        # Instead of sleeping: probe the still-open socket, as Kubernetes would.
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{base}/readyz") as ready,
            session.get(f"{base}/healthz") as health,
        ):
            seen_during_drain.append((seconds, ready.status, health.status))

    server = graceful_server(app, settings, sleep=drain)
    await server.start()
    base = f"http://127.0.0.1:{server.port}"
    async with aiohttp.ClientSession() as session, session.get(f"{base}/readyz") as response:
        assert response.status == 200
    await server.stop()
    assert seen_during_drain == [(5.0, 503, 200)]
    assert app[STATE].ready is False
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session:
            await session.get(f"{base}/healthz")


async def test_stop_without_drain_does_not_sleep() -> None:
    calls: list[float] = []

    async def sleep(seconds: float) -> None:
        calls.append(seconds)

    settings = Settings(host="127.0.0.1", port=0)
    server = graceful_server(make_app(settings), settings, sleep=sleep)
    await server.start()
    await server.stop()
    assert calls == []
