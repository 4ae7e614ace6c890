"""One transaction is one trace, across the simulator, the function server and merchant-service.

Fetched from Jaeger's query API after the scenario, and held to the tracing contract of issue 10
(docs/observability.md, "Traces"): the produce span is the root; the first transaction-manager
invocation its child; the chain of keys (ADR 0016) below it: the account's invocation its child, the
merchant's the account's child, and the transaction-manager invocation that scores and decides the
merchant's child; merchant-service's server span a child of the merchant client's span; `receive alert`
a child of a transaction-manager invocation (the one that emitted the alert).
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pytest

TM, ACCOUNT, MERCHANT = (f"invoke fraud/{name}" for name in ("transaction-manager", "account", "merchant"))
PRODUCE, RECEIVE, LOOKUP, SERVE = (
    "produce transaction",
    "receive alert",
    "merchant-service lookup",
    "GET /merchants/{merchant}/score",
)


@dataclass(frozen=True)
class Span:
    span_id: str
    parent: str | None
    name: str
    service: str
    tags: dict[str, object]


def jaeger(port: int, path: str, **params: str) -> dict:
    url = f"http://127.0.0.1:{port}/api/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def spans_of(trace: dict) -> list[Span]:
    services = {key: process["serviceName"] for key, process in trace["processes"].items()}
    out = []
    for span in trace["spans"]:
        parents = [ref["spanID"] for ref in span.get("references", []) if ref["refType"] == "CHILD_OF"]
        out.append(
            Span(
                span["spanID"],
                parents[0] if parents else None,
                span["operationName"],
                services[span["processID"]],
                {tag["key"]: tag["value"] for tag in span["tags"]},
            )
        )
    return out


def complete_trace(port: int) -> list[Span]:
    """A trace of a transaction that alerted after a merchant-service lookup: every kind of span in one tree."""
    traces = jaeger(port, "traces", service="fraud-simulator", operation=RECEIVE, limit="50", lookback="1h")["data"]
    for trace in traces:
        spans = spans_of(trace)
        if {span.name for span in spans} >= {PRODUCE, TM, ACCOUNT, MERCHANT, RECEIVE, LOOKUP, SERVE}:
            return spans
    pytest.fail(f"no trace among {len(traces)} with an alert holds every span of the contract")


def test_one_transaction_is_one_trace_across_every_service(scenario):
    spans = complete_trace(scenario.stack.config.ports.jaeger_query)
    by_id = {span.span_id: span for span in spans}

    def parent(span: Span) -> Span:
        assert span.parent in by_id, f"{span.name} ({span.service}) has no parent in the trace"
        return by_id[span.parent]

    roots = [span for span in spans if span.parent is None]
    assert [(root.name, root.service, root.tags.get("span.kind")) for root in roots] == [
        (PRODUCE, "fraud-simulator", "producer")
    ]
    transaction_id = roots[0].tags["transaction.id"]

    first = [
        span for span in spans if span.name == TM and span.tags.get("statefun.message_type") == "fraud/Transaction"
    ]
    assert len(first) == 1 and parent(first[0]) is roots[0]
    queried = [span for span in spans if span.tags.get("statefun.message_type") == "fraud/FeatureQuery"]
    (account,) = [span for span in queried if span.name == ACCOUNT]  # not its timers (ExpireFraud), if any
    (merchant,) = [span for span in queried if span.name == MERCHANT]
    assert parent(account) is first[0] and parent(merchant) is account
    deciding = [
        span for span in spans if span.name == TM and span.tags.get("statefun.message_type") == "fraud/FeatureAnswers"
    ]
    assert [parent(span) for span in deciding] == [merchant]
    assert all(parent(span).name == TM for span in spans if span.name == RECEIVE)
    for span in spans:
        if span.name.startswith("invoke "):
            assert span.service == "fraud-functions"
            assert span.tags["statefun.function"] == span.name.removeprefix("invoke ")
            assert span.tags["transaction.id"] == transaction_id and span.tags["statefun.message_type"]
        if span.name == LOOKUP:
            assert (span.service, span.tags.get("span.kind"), parent(span).name) == (
                "fraud-functions",
                "client",
                MERCHANT,
            )
        if span.name == SERVE:
            assert (span.service, span.tags.get("span.kind"), parent(span).name) == (
                "merchant-service",
                "server",
                LOOKUP,
            )
        if span.name == RECEIVE:
            assert (span.service, span.tags.get("span.kind")) == ("fraud-simulator", "consumer")
