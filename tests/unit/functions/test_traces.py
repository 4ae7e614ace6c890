"""One transaction is one trace: down the chain of keys and through merchant-service, into the alert.

The real functions behind the miniature runtime, the real merchant-service
client against a real merchant-service app, and an in-memory span exporter.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest
from statefun import RequestReplyHandler

from fraud_common import tracing
from fraud_dev.mini_runtime import MiniRuntime
from fraud_dev.pipeline import merchant_with_risk
from fraud_dev.scripted import transaction
from fraud_functions.addresses import ALERTS_EGRESS, DECISIONS_EGRESS
from fraud_functions.merchant_service_client import MerchantServiceClient
from fraud_functions.scoring import load_model
from fraud_functions.wiring import wire
from merchant_service.app import make_app
from merchant_service.settings import Settings
from tests.unit.spans import named, parent_of

RISKY = merchant_with_risk(97, 100)  # merchant-service's score for it: the transaction alerts


@pytest.fixture
async def traced_runtime(settings, aiohttp_server):
    """The real functions behind a MiniRuntime, their merchant-service client on a real merchant-service app."""
    server = await aiohttp_server(
        make_app(replace(Settings(), latency_ms_min=0.0, latency_ms_max=0.0), rng=random.Random(1))
    )
    client = MerchantServiceClient(
        str(server.make_url("")), timeout_seconds=1, max_attempts=1, backoff_seconds=0, backoff_max_seconds=0
    )
    yield MiniRuntime(
        RequestReplyHandler(wire(settings, client, load_model(settings.model_strategy, settings.model_path)).functions)
    )
    await client.close()


async def test_a_transaction_is_one_trace_across_functions_and_merchant_service(spans, traced_runtime):
    runtime = traced_runtime
    with tracing.tracer("simulator").start_as_current_span("produce transaction") as produced:
        record = json.dumps(
            {
                "account": "0x00F3CD51",
                "merchant": RISKY,
                "amount": 999,
                "timestamp": "2026-11-28T10:00:00",
                "traceparent": tracing.current_traceparent(),
            }
        ).encode()
    await runtime.deliver(transaction("tx-traced", raw=record))

    finished = spans.get_finished_spans()
    trace_ids = {span.context.trace_id for span in finished}
    assert trace_ids == {produced.context.trace_id}, "every span is in the producer's trace"
    first_tm = next(
        s
        for s in named(finished, "invoke fraud/transaction-manager")
        if s.attributes["statefun.message_type"] == "fraud/Transaction"
    )
    assert first_tm.parent.span_id == produced.context.span_id
    # The chain: transaction-manager → account → merchant → transaction-manager, each invocation the last's child.
    (account,) = named(finished, "invoke fraud/account")
    (merchant,) = named(finished, "invoke fraud/merchant")
    assert parent_of(account, finished) == first_tm and parent_of(merchant, finished) == account
    for invocation in (account, merchant):
        assert invocation.attributes["transaction.id"] == "tx-traced"
    (lookup,) = named(finished, "merchant-service lookup")
    (served,) = named(finished, "GET /merchants/{merchant}/score")
    assert parent_of(lookup, finished) == merchant
    assert parent_of(served, finished) == lookup
    deciding = next(
        s
        for s in named(finished, "invoke fraud/transaction-manager")
        if s.attributes["statefun.message_type"] == "fraud/FeatureAnswers"
    )
    assert parent_of(deciding, finished) == merchant
    assert not named(finished, "invoke fraud/model"), "scored in transaction-manager"
    for egress in (ALERTS_EGRESS, DECISIONS_EGRESS):
        (out,) = [e.json() for e in runtime.egress if e.egress == egress]
        assert out["traceparent"].split("-")[2] == format(deciding.context.span_id, "016x"), (
            "the alert and the decision continue the trace from the invocation that decided"
        )


async def test_without_tracing_no_message_carries_a_trace(runtime):
    await runtime.deliver(transaction("tx-untraced"))
    assert all("traceparent" not in e.json() for e in runtime.egress)


async def test_an_unsampled_transaction_opens_no_span_and_forwards_its_traceparent(spans, traced_runtime):
    runtime = traced_runtime
    unsampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
    record = json.dumps(
        {
            "account": "0x00F3CD51",
            "merchant": RISKY,
            "amount": 999,
            "timestamp": "2026-11-28T10:00:00",
            "traceparent": unsampled,
        }
    ).encode()
    await runtime.deliver(transaction("tx-unsampled", raw=record))

    # merchant-service samples by its parent too: a request without the traceparent would be a sampled root.
    assert spans.get_finished_spans() == ()
    for egress in (ALERTS_EGRESS, DECISIONS_EGRESS):
        (out,) = [e.json() for e in runtime.egress if e.egress == egress]
        assert out["traceparent"] == unsampled
