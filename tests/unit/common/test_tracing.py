"""Tracing: on only when the environment asks, and the trace context read from payloads never fails."""

from __future__ import annotations

import pytest

from fraud_common import tracing

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.parametrize(
    "env, wanted",
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_tracing_is_on_only_with_an_endpoint_and_not_disabled(env, wanted):
    assert tracing.wanted(env) is wanted


def test_off_there_is_no_context_to_carry():
    assert tracing.enabled() is False and tracing.current_traceparent() is None
    assert tracing.headers_with_trace({"a": "b"}) == {"a": "b"}


@pytest.mark.parametrize(
    "payload, found",
    [
        (b'{"account":"a","traceparent":"' + TRACEPARENT.encode() + b'"}', TRACEPARENT),
        (b'{"transaction_id":"t","trace": "' + TRACEPARENT.encode() + b'"}', TRACEPARENT),
        (b'{"traceparent":"00-zz"}', None),
        (b"\x00garbage", None),
        (None, None),
    ],
)
def test_the_trace_context_is_found_in_a_payload_without_parsing_it(payload, found):
    assert tracing.traceparent_in(payload) == found


@pytest.mark.parametrize("value", [None, "", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "nonsense"])
def test_a_malformed_traceparent_starts_a_new_trace_instead_of_failing(value):
    assert tracing.context_of(value) is None


def test_a_span_started_from_a_payloads_context_joins_its_trace(spans):
    with tracing.tracer("test").start_as_current_span("child", context=tracing.context_of(TRACEPARENT)):
        carried = tracing.current_traceparent()
    (child,) = spans.get_finished_spans()
    assert format(child.context.trace_id, "032x") == TRACEPARENT.split("-")[1]
    assert carried.split("-")[1] == TRACEPARENT.split("-")[1] and carried.split("-")[2] != TRACEPARENT.split("-")[2]
