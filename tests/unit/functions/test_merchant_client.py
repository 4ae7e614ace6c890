"""The merchant-service client against a real merchant-service: retries, timeouts, 4xx, garbage, outage."""

from __future__ import annotations

import random
import socket
from dataclasses import replace

import pytest
from aiohttp import web

from fraud_functions.merchant_service_client import MerchantServiceClient
from fraud_functions.metrics import MERCHANT_ATTEMPTS
from merchant_service.app import make_app
from merchant_service.scoring import risk_score
from merchant_service.settings import Settings
from tests.unit.counters import counted


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


async def merchant_service(aiohttp_server, **faults):
    settings = replace(Settings.from_env({}), **{"latency_ms_min": 0.0, "latency_ms_max": 0.0, **faults})
    return await aiohttp_server(make_app(settings, rng=random.Random(1)))


async def lookup(url: str, merchant: str = "Hypergrid", sleep=None, timeout: float = 1.0, attempts: int = 3):
    """One lookup with a fresh client, closed afterwards."""
    client = MerchantServiceClient(
        url,
        timeout_seconds=timeout,
        max_attempts=attempts,
        backoff_seconds=0.1,
        backoff_max_seconds=1.0,
        rng=random.Random(3),
        sleep=sleep or RecordingSleep(),
    )
    try:
        return await client.score(merchant)
    finally:
        await client.close()


async def test_scores_come_from_the_service(aiohttp_server):
    server = await merchant_service(aiohttp_server)
    result = await lookup(str(server.make_url("")))
    assert (result.score, result.attempts, result.error) == (risk_score("Hypergrid"), 1, None)


async def test_failures_are_retried_a_bounded_number_of_times_with_backoff(aiohttp_server):
    server = await merchant_service(aiohttp_server, error_rate=1.0)
    sleep = RecordingSleep()
    before = counted(MERCHANT_ATTEMPTS, "server_error")
    result = await lookup(str(server.make_url("")), sleep=sleep)
    assert result.score is None and result.attempts == 3 and result.error == "HTTP 503"
    assert counted(MERCHANT_ATTEMPTS, "server_error") == before + 3
    assert len(sleep.delays) == 2  # between attempts only
    assert 0 <= sleep.delays[0] <= 0.1 and 0 <= sleep.delays[1] <= 0.2


async def test_a_slow_service_times_out_per_attempt(aiohttp_server):
    server = await merchant_service(aiohttp_server, latency_ms_min=300.0, latency_ms_max=300.0)
    result = await lookup(str(server.make_url("")), timeout=0.02, attempts=2)
    assert (result.score, result.attempts, result.error) == (None, 2, "timeout")


async def test_a_rejected_name_is_not_retried(aiohttp_server):
    server = await merchant_service(aiohttp_server)
    result = await lookup(str(server.make_url("")), "bad\nname")
    assert (result.score, result.attempts, result.error) == (None, 1, "HTTP 400")


async def test_a_dead_service_is_a_connection_error_not_an_exception():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket closes
    result = await lookup(f"http://127.0.0.1:{port}")
    assert result.score is None and result.attempts == 3 and result.error.startswith("connection error")


@pytest.mark.parametrize("body", [b"not json", b'{"score": "high"}', b'{"score": 101}', b"[]", b'{"score": true}'])
async def test_a_garbage_answer_is_retried_then_reported(aiohttp_server, body):
    async def garbage(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/merchants/{name}/score", garbage)
    server = await aiohttp_server(app)
    result = await lookup(str(server.make_url("")))
    assert result.score is None and result.attempts == 3


def test_backoff_is_exponential_full_jitter_and_capped():
    client = MerchantServiceClient("http://x", 1, 5, backoff_seconds=0.1, backoff_max_seconds=0.3, rng=random.Random(0))
    for attempt, ceiling in ((0, 0.1), (1, 0.2), (2, 0.3), (3, 0.3)):
        delays = [client.backoff_delay(attempt) for _ in range(200)]
        assert min(delays) >= 0 and max(delays) <= ceiling
        assert max(delays) > ceiling * 0.8  # the whole range is used, not a fixed delay
