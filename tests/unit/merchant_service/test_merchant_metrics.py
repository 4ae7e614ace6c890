"""Prometheus metrics: exposed, counted by route and code, per app instance."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from merchant_service.app import STATE

SCORE_ROUTE = "/merchants/{merchant}/score"


def sample(text: str, name: str, labels: dict[str, str] | None = None) -> float | None:
    """The value of one sample in an exposition text, None if absent."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == (labels or {}):
                return s.value
    return None


async def scrape(client) -> str:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    return await response.text()


async def test_requests_are_counted_by_route_and_code(make_client) -> None:
    client = await make_client()
    for _ in range(2):
        assert (await client.get("/merchants/Acme/score")).status == 200
    assert (await client.get("/merchants/-bad/score")).status == 400
    assert (await client.get("/nope")).status == 404
    text = await scrape(client)
    total = "merchant_service_requests_total"
    assert sample(text, total, {"route": SCORE_ROUTE, "code": "200"}) == 2
    assert sample(text, total, {"route": SCORE_ROUTE, "code": "400"}) == 1
    assert sample(text, total, {"route": "unmatched", "code": "404"}) == 1
    # The histogram saw every score request, labelled by template, never by merchant name.
    assert sample(text, "merchant_service_request_duration_seconds_count", {"route": SCORE_ROUTE}) == 3
    assert "Acme" not in text


async def test_injected_failures_and_error_rate_gauge(make_client) -> None:
    client = await make_client(error_rate=1.0)
    for _ in range(3):
        assert (await client.get("/merchants/Acme/score")).status == 503
    text = await scrape(client)
    assert sample(text, "merchant_service_injected_failures_total") == 3
    assert sample(text, "merchant_service_requests_total", {"route": SCORE_ROUTE, "code": "503"}) == 3
    assert sample(text, "merchant_service_fault_error_rate") == 1.0


async def test_gauges_follow_admin_updates(make_client) -> None:
    client = await make_client()
    assert sample(await scrape(client), "merchant_service_fault_error_rate") == 0.0
    await client.put("/admin/faults", json={"error_rate": 0.3, "latency_ms_max": 80})
    text = await scrape(client)
    assert sample(text, "merchant_service_fault_error_rate") == 0.3
    assert sample(text, "merchant_service_fault_latency_ms", {"bound": "max"}) == 80.0
    assert sample(text, "merchant_service_fault_latency_ms", {"bound": "min"}) == 5.0


async def test_each_app_has_its_own_registry(make_client) -> None:
    first = await make_client()
    second = await make_client()
    assert first.app[STATE].metrics.registry is not second.app[STATE].metrics.registry
    await first.get("/merchants/Acme/score")
    labels = {"route": SCORE_ROUTE, "code": "200"}
    assert sample(await scrape(first), "merchant_service_requests_total", labels) == 1
    assert sample(await scrape(second), "merchant_service_requests_total", labels) is None


async def test_the_process_reports_its_cpu_and_memory_like_the_other_services(make_client) -> None:
    text = await scrape(await make_client())
    assert sample(text, "process_cpu_seconds_total") is not None
    resident = sample(text, "process_resident_memory_bytes")
    assert resident is not None and resident > 0
    assert any(family.name == "python_info" for family in text_string_to_metric_families(text))
