"""HTTP behaviour of the score, health and error paths."""

from __future__ import annotations

import logging

import pytest
from yarl import URL

from merchant_service import app as app_module
from merchant_service.scoring import risk_score


def encoded(path: str) -> URL:
    """A URL sent exactly as written (no re-quoting by the client)."""
    return URL(path, encoded=True)


async def test_score_returns_merchant_and_stable_score(make_client) -> None:
    client = await make_client()
    response = await client.get("/merchants/Hypergrid/score")
    assert response.status == 200
    assert await response.json() == {"merchant": "Hypergrid", "score": risk_score("Hypergrid")}


async def test_same_name_same_score_in_two_app_instances(make_client) -> None:
    first = await make_client()
    second = await make_client(fault_seed=99)
    for name in ("Hypergrid", "Acme", "Zed"):
        a = await (await first.get(f"/merchants/{name}/score")).json()
        b = await (await second.get(f"/merchants/{name}/score")).json()
        assert a == b
        assert 0 <= a["score"] <= 100


@pytest.mark.parametrize(
    ("path", "merchant"),
    [
        ("/merchants/Acme%20Corp/score", "Acme Corp"),
        ("/merchants/O%27Brien%20%26%20Sons/score", "O'Brien & Sons"),
        ("/merchants/%41cme/score", "Acme"),
    ],
)
async def test_url_encoded_names_are_decoded(make_client, path: str, merchant: str) -> None:
    client = await make_client()
    response = await client.get(encoded(path))
    assert response.status == 200
    assert await response.json() == {"merchant": merchant, "score": risk_score(merchant)}


@pytest.mark.parametrize(
    "path",
    [
        "/merchants//score",  # empty
        "/merchants/%20/score",  # blank
        "/merchants/%20Acme/score",  # leading space
        "/merchants/a%2Fb/score",  # encoded slash
        "/merchants/a/b/score",  # raw slash
        "/merchants/a%00b/score",  # NUL
        "/merchants/a%0Ab/score",  # newline inside
        "/merchants/Acme%0A/score",  # trailing newline ($ would accept it with re.match)
        "/merchants/a%1Bb/score",  # escape
        "/merchants/" + "x" * 129 + "/score",  # too long
        "/merchants/caf%C3%A9/score",  # non-ASCII
        "/merchants/%FF/score",  # not UTF-8
        "/merchants/-Acme/score",  # must start with a letter or digit
    ],
)
async def test_invalid_names_get_400_json(make_client, fake_sleep, path: str) -> None:
    client = await make_client(error_rate=1.0)
    response = await client.get(encoded(path))
    assert response.status == 400
    body = await response.json()
    assert set(body) == {"error"}
    assert "merchant name" in body["error"]
    # Validation runs before fault injection: no latency, no injected 503.
    assert fake_sleep.calls == []


async def test_longest_valid_name_is_accepted(make_client) -> None:
    client = await make_client()
    response = await client.get("/merchants/" + "x" * 128 + "/score")
    assert response.status == 200


async def test_healthz(make_client) -> None:
    client = await make_client()
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_readiness_flips_when_shutdown_begins(make_client) -> None:
    client = await make_client()
    assert (await client.get("/readyz")).status == 200
    app_module.mark_not_ready(client.app)
    response = await client.get("/readyz")
    assert response.status == 503
    assert (await response.json())["status"] == "shutting down"
    # Liveness is unaffected: the process is healthy, just leaving.
    assert (await client.get("/healthz")).status == 200


async def test_on_shutdown_hook_turns_readiness_off(make_client) -> None:
    client = await make_client()
    assert client.app[app_module.STATE].ready is True
    await client.app.shutdown()
    assert client.app[app_module.STATE].ready is False


async def test_unknown_route_is_404_json(make_client) -> None:
    client = await make_client()
    response = await client.get("/nope")
    assert response.status == 404
    assert response.content_type == "application/json"
    assert "/nope" in (await response.json())["error"]


async def test_wrong_method_is_405_json_with_allow(make_client) -> None:
    client = await make_client()
    response = await client.post("/merchants/Acme/score")
    assert response.status == 405
    assert response.content_type == "application/json"
    assert "POST" in (await response.json())["error"]
    assert "GET" in response.headers["Allow"]


async def test_unexpected_exception_is_500_json_and_logged(make_client, monkeypatch, caplog) -> None:
    def boom(_: str) -> int:
        raise RuntimeError("kaput")

    monkeypatch.setattr(app_module, "risk_score", boom)
    client = await make_client(latency_ms_min=0.0, latency_ms_max=0.0)
    with caplog.at_level(logging.ERROR, logger="merchant_service.app"):
        response = await client.get("/merchants/Acme/score")
    assert response.status == 500
    assert await response.json() == {"error": "internal server error"}
    assert any(record.exc_info and "kaput" in str(record.exc_info[1]) for record in caplog.records)
    # The service keeps serving after the crash.
    assert (await client.get("/healthz")).status == 200
