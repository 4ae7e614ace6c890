"""Fault injection (errors, latency, seeds) and the admin endpoint."""

from __future__ import annotations

import json
import random

import aiohttp
import pytest

from merchant_service.faults import (
    FaultConfigError,
    FaultInjector,
    FaultSettings,
    apply_update,
)

DEFAULT_FAULTS = {"latency_ms_min": 5.0, "latency_ms_max": 30.0, "error_rate": 0.0}


async def test_error_rate_one_fails_every_request(make_client) -> None:
    client = await make_client(error_rate=1.0)
    for _ in range(25):
        response = await client.get("/merchants/Acme/score")
        assert response.status == 503
        assert await response.json() == {"error": "injected failure"}


async def test_error_rate_zero_never_fails(make_client) -> None:
    client = await make_client(error_rate=0.0)
    statuses = {(await client.get(f"/merchants/M{i}/score")).status for i in range(50)}
    assert statuses == {200}


async def test_partial_error_rate_with_seed_is_reproducible(make_client) -> None:
    async def statuses(client) -> list[int]:
        return [(await client.get("/merchants/Acme/score")).status for _ in range(40)]

    first = await statuses(await make_client(rng=random.Random(7), error_rate=0.5))
    second = await statuses(await make_client(rng=random.Random(7), error_rate=0.5))
    assert first == second
    assert set(first) == {200, 503}


async def test_fault_seed_setting_seeds_the_default_rng(aiohttp_client, fake_sleep) -> None:
    from merchant_service.app import make_app
    from merchant_service.settings import Settings

    async def run(seed: int) -> list[int]:
        client = await aiohttp_client(make_app(Settings(error_rate=0.5, fault_seed=seed), sleep=fake_sleep))
        return [(await client.get("/merchants/Acme/score")).status for _ in range(30)]

    first = await run(42)
    assert set(first) == {200, 503}, "faults fire, and not on every request"
    assert await run(42) == first
    assert await run(43) != first, "the seed decides which requests fail"


async def test_fixed_latency_is_applied_via_sleep(make_client, fake_sleep) -> None:
    client = await make_client(latency_ms_min=12.0, latency_ms_max=12.0)
    for _ in range(3):
        assert (await client.get("/merchants/Acme/score")).status == 200
    assert fake_sleep.calls == pytest.approx([0.012] * 3)


async def test_latency_is_drawn_within_bounds(make_client, fake_sleep) -> None:
    client = await make_client(latency_ms_min=5.0, latency_ms_max=30.0)
    for _ in range(50):
        await client.get("/merchants/Acme/score")
    assert len(fake_sleep.calls) == 50
    assert all(0.005 <= delay <= 0.030 for delay in fake_sleep.calls)
    assert len(set(fake_sleep.calls)) > 40  # drawn, not constant


async def test_zero_latency_does_not_sleep(make_client, fake_sleep) -> None:
    client = await make_client(latency_ms_min=0.0, latency_ms_max=0.0)
    assert (await client.get("/merchants/Acme/score")).status == 200
    assert fake_sleep.calls == []


async def test_latency_applies_to_injected_failures_too(make_client, fake_sleep) -> None:
    client = await make_client(latency_ms_min=20.0, latency_ms_max=20.0, error_rate=1.0)
    assert (await client.get("/merchants/Acme/score")).status == 503
    assert fake_sleep.calls == pytest.approx([0.020])


async def test_faults_do_not_touch_health_endpoints(make_client, fake_sleep) -> None:
    client = await make_client(error_rate=1.0)
    for path in ("/healthz", "/readyz", "/metrics", "/admin/faults"):
        assert (await client.get(path)).status == 200
    assert fake_sleep.calls == []


async def test_admin_get_returns_current_settings(make_client) -> None:
    client = await make_client()
    response = await client.get("/admin/faults")
    assert response.status == 200
    assert await response.json() == DEFAULT_FAULTS


async def test_admin_put_round_trip_and_effect(make_client, fake_sleep) -> None:
    client = await make_client()
    response = await client.put("/admin/faults", json={"error_rate": 1, "latency_ms_min": 0, "latency_ms_max": 0})
    assert response.status == 200
    expected = {"latency_ms_min": 0.0, "latency_ms_max": 0.0, "error_rate": 1.0}
    assert await response.json() == expected
    assert await (await client.get("/admin/faults")).json() == expected
    assert (await client.get("/merchants/Acme/score")).status == 503
    assert fake_sleep.calls == []


async def test_admin_put_subset_keeps_other_fields(make_client) -> None:
    client = await make_client()
    response = await client.put("/admin/faults", json={"latency_ms_max": 100})
    assert response.status == 200
    assert await (await client.get("/admin/faults")).json() == {**DEFAULT_FAULTS, "latency_ms_max": 100.0}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"error_rate"', "JSON object"),
        (b'{"error_rate": "0.5"}', "must be a number"),
        (b'{"error_rate": true}', "must be a number"),
        (b'{"error_rate": null}', "must be a number"),
        (b'{"error_rate": NaN}', "finite"),
        (b'{"latency_ms_max": Infinity}', "finite"),
        (b'{"error_rate": 1.5}', "outside"),
        (b'{"error_rate": -0.1}', "outside"),
        (b'{"latency_ms_min": -1}', "outside"),
        (b'{"latency_ms_max": 1e9}', "outside"),
        (b'{"latency_ms_min": 50}', "above"),  # above the current max of 30
        (b'{"latency_ms_min": 10, "latency_ms_max": 5}', "above"),
        (b'{"error_rate": 0.5, "seed": 1}', "unknown keys"),
    ],
)
async def test_admin_put_rejects_invalid_bodies_and_keeps_settings(make_client, body: bytes, reason: str) -> None:
    client = await make_client()
    response = await client.put("/admin/faults", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    error = (await response.json())["error"]
    assert reason in error
    assert await (await client.get("/admin/faults")).json() == DEFAULT_FAULTS


async def test_admin_put_oversized_body_is_rejected(make_client) -> None:
    client = await make_client()
    body = json.dumps({"error_rate": 0.5, "pad": "x" * 100_000})
    response = await client.put("/admin/faults", data=body)
    assert response.status == 413
    assert "error" in await response.json()
    assert await (await client.get("/admin/faults")).json() == DEFAULT_FAULTS


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token-0123456789", "test-admin-token-0123456789", "Basic dGVzdA=="]
)
async def test_admin_without_the_token_is_401_and_changes_nothing(make_client, aiohttp_client, authorization) -> None:
    client = await make_client()
    headers = {} if authorization is None else {"Authorization": authorization}
    async with aiohttp.ClientSession() as session:  # a client without the fixture's default token
        url = client.make_url("/admin/faults")
        response = await session.put(url, json={"error_rate": 1.0}, headers=headers)
        assert response.status == 401 and response.headers["WWW-Authenticate"] == "Bearer"
        assert (await session.get(url, headers=headers)).status == 401
    assert await (await client.get("/admin/faults")).json() == DEFAULT_FAULTS
    assert (await client.get("/merchants/Acme/score")).status == 200


async def test_admin_disabled_is_404(make_client) -> None:
    client = await make_client(admin_enabled=False)
    assert (await client.get("/admin/faults")).status == 404
    response = await client.put("/admin/faults", json={"error_rate": 1.0})
    assert response.status == 404
    assert "error" in await response.json()
    # Still serving scores, and the rejected PUT changed nothing.
    assert (await client.get("/merchants/Acme/score")).status == 200


def test_apply_update_returns_new_object_and_leaves_current_alone() -> None:
    current = FaultSettings()
    updated = apply_update(current, {"error_rate": 0.25})
    assert updated.error_rate == 0.25
    assert current.error_rate == 0.0


def test_fault_settings_reject_min_above_max() -> None:
    with pytest.raises(FaultConfigError, match="above"):
        FaultSettings(latency_ms_min=10.0, latency_ms_max=5.0)


async def test_injector_uses_injected_rng_and_sleep() -> None:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    injector = FaultInjector(
        FaultSettings(latency_ms_min=1.0, latency_ms_max=2.0, error_rate=0.5), rng=random.Random(3), sleep=sleep
    )
    outcomes = [await injector.inject() for _ in range(20)]
    reference = random.Random(3)
    expected = []
    for _ in range(20):
        reference.uniform(1.0, 2.0)
        expected.append(reference.random() < 0.5)
    assert outcomes == expected
    assert len(delays) == 20 and all(0.001 <= d <= 0.002 for d in delays)
