"""Shared fixtures: a fake sleep that records delays instead of sleeping, and an app-client factory."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from merchant_service.app import make_app
from merchant_service.settings import Settings


class FakeSleep:
    """Stands in for asyncio.sleep: records each requested delay, returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()


ClientFactory = Callable[..., Awaitable[TestClient]]
ADMIN_TOKEN = "test-admin-token-0123456789"


@pytest.fixture
def make_client(aiohttp_client: Any, fake_sleep: FakeSleep) -> ClientFactory:
    """Build an app from Settings overrides and return a test client (never sleeps for real)."""

    async def factory(rng: random.Random | None = None, **overrides: Any) -> TestClient:
        """The admin endpoint is on, and the client presents its token, unless the overrides say otherwise."""
        settings = Settings(**{"admin_enabled": True, "admin_token": ADMIN_TOKEN, **overrides})
        app: web.Application = make_app(settings, rng=rng or random.Random(1234), sleep=fake_sleep)
        return await aiohttp_client(app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})

    return factory
