"""OpenTelemetry tracing for every component, configured by the standard OTEL_* variables.

On when an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, OTLP over HTTP) and `OTEL_SDK_DISABLED` is
not true; the sampler follows `OTEL_TRACES_SAMPLER`/`_ARG`, the service name
`OTEL_SERVICE_NAME`. Off, nothing is set up: the API's no-op tracer remains and
the callers skip their trace work (`enabled()`), so tracing off costs nothing.

StateFun 3.3 carries no headers between functions, so the W3C trace context
travels in the payloads: a `traceparent` field in the Kafka records (an extra
JSON field, which the contract allows) and a `trace` field in the messages
between functions. One transaction is one trace, from the simulator's produce
to the alert it reads.

Work in a trace its caller did not sample creates no span (`forwarding`): the
caller's traceparent goes on unchanged into every message and HTTP request the
work sends, so the rest of the transaction stays unsampled too, for the cost of
a context variable instead of a span per invocation (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeGuard

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from fraud_common.contract import TRACEPARENT

log = logging.getLogger(__name__)

_IN_PAYLOAD = re.compile(rb'"(?:traceparent|trace)":\s*"(' + TRACEPARENT.pattern.encode() + rb')"')
_PROPAGATOR = TraceContextTextMapPropagator()
_FORWARDED: ContextVar[str | None] = ContextVar("forwarded_traceparent", default=None)
_enabled = False


def enabled() -> bool:
    return _enabled


def spans_wanted() -> bool:
    """Whether code here should open spans: tracing is on and the work is not in an unsampled caller's trace."""
    return _enabled and _FORWARDED.get() is None


def unsampled(traceparent: str | None) -> TypeGuard[str]:
    """Whether a well-formed traceparent says its trace is not sampled (the flags' lowest bit is off)."""
    return traceparent is not None and not int(traceparent[-2:], 16) & 1


@contextmanager
def forwarding(traceparent: str) -> Iterator[None]:
    """Work in an unsampled caller's trace without a span: what it sends carries `traceparent` unchanged."""
    token = _FORWARDED.set(traceparent)
    try:
        yield
    finally:
        _FORWARDED.reset(token)


def wanted(env: Mapping[str, str] | None = None) -> bool:
    """Whether the environment asks for tracing (an OTLP endpoint, and the SDK not disabled)."""
    source = os.environ if env is None else env
    if source.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if source.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return bool(source.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or source.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def trace_with(provider: trace.TracerProvider) -> None:
    """Install `provider` and open spans from now on; configure_tracing's provider exports over OTLP, a benchmark
    brings one that exports nothing."""
    global _enabled
    trace.set_tracer_provider(provider)
    _enabled = True


def configure_tracing(default_service_name: str) -> bool:
    """Install a tracer provider exporting over OTLP/HTTP when the environment asks for it; True if on."""
    if not wanted():
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    service = os.environ.get("OTEL_SERVICE_NAME", default_service_name)
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace_with(provider)
    log.info("tracing on", extra={"service": service})
    return True


def shutdown_tracing() -> None:
    """Flush and stop the exporter (spans still queued are sent)."""
    provider = trace.get_tracer_provider()
    shutdown = getattr(provider, "shutdown", None)
    if callable(shutdown):
        shutdown()


@contextmanager
def traced_process(default_service_name: str) -> Iterator[bool]:
    """Tracing for the life of a process: configured on entry, flushed on exit; yields whether it is on."""
    on = configure_tracing(default_service_name)
    try:
        yield on
    finally:
        if on:
            shutdown_tracing()


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span (or the forwarded one), to put into an outgoing payload
    (None when tracing is off)."""
    if not _enabled:
        return None
    forwarded = _FORWARDED.get()
    if forwarded is not None:
        return forwarded
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def context_of(traceparent: str | None) -> otel_context.Context | None:
    """The parent context a payload's traceparent names; None when absent or malformed (never an error)."""
    if not traceparent or not TRACEPARENT.fullmatch(traceparent):
        return None
    return _PROPAGATOR.extract({"traceparent": traceparent})


def traceparent_in(payload: bytes | None) -> str | None:
    """The first `traceparent`/`trace` value in a JSON payload, found without parsing it."""
    if not payload:
        return None
    found = _IN_PAYLOAD.search(payload)
    return found.group(1).decode("ascii") if found else None


def headers_with_trace(headers: dict[str, str] | None = None) -> dict[str, str]:
    """HTTP headers carrying the current trace context (for a client span's request, or the forwarded one)."""
    carrier = dict(headers or {})
    if _enabled:
        forwarded = _FORWARDED.get()
        if forwarded is not None:
            carrier["traceparent"] = forwarded
        else:
            _PROPAGATOR.inject(carrier)
    return carrier


def context_from_headers(headers: Mapping[str, str]) -> otel_context.Context:
    """The trace context an incoming HTTP request carries (an empty context when none)."""
    return _PROPAGATOR.extract(dict(headers))
