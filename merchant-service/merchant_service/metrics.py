"""Prometheus metrics of merchant-service.

Each app gets its own CollectorRegistry: the process-wide default registry
refuses a second metric of the same name, which would break every test (or
embedding) that builds more than one app. The registry carries the process
and platform collectors too (CPU, memory, file descriptors, Python version),
which the default registry would have had, for the pods dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from merchant_service.faults import FaultSettings


@dataclass(frozen=True)
class Metrics:
    """The metrics of one app instance and the registry that exposes them."""

    registry: CollectorRegistry
    requests: Counter
    duration: Histogram
    injected_failures: Counter
    error_rate: Gauge
    latency_ms: Gauge

    def observe_faults(self, faults: FaultSettings) -> None:
        """Publish the active fault settings, so dashboards show why latency or errors moved."""
        self.error_rate.set(faults.error_rate)
        self.latency_ms.labels(bound="min").set(faults.latency_ms_min)
        self.latency_ms.labels(bound="max").set(faults.latency_ms_max)

    def render(self) -> tuple[bytes, str]:
        """The exposition body and its Content-Type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def create_metrics() -> Metrics:
    """Create the metrics in a fresh registry."""
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return Metrics(
        registry=registry,
        requests=Counter(
            "merchant_service_requests_total",
            "HTTP requests by route template and status code",
            ["route", "code"],
            registry=registry,
        ),
        duration=Histogram(
            "merchant_service_request_duration_seconds",
            "HTTP request duration, injected latency included",
            ["route"],
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
            registry=registry,
        ),
        injected_failures=Counter(
            "merchant_service_injected_failures_total",
            "Requests answered 503 on purpose by fault injection",
            registry=registry,
        ),
        error_rate=Gauge(
            "merchant_service_fault_error_rate",
            "Current injected error rate (0..1)",
            registry=registry,
        ),
        latency_ms=Gauge(
            "merchant_service_fault_latency_ms",
            "Current bounds of the injected latency, in milliseconds",
            ["bound"],
            registry=registry,
        ),
    )
