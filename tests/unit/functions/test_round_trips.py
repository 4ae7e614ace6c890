"""One round trip per key (ADR 0016): the requests the runtime sends per transaction, through the real handlers.

The recorded streams of the oracle (tests/unit/oracle/) replayed through the real functions and the real SDK
handler, behind the recorder the benchmarks use (fraud_dev.bench.request_mix): every transaction is decided
as the oracle says from the inputs alone, and costs the runtime four requests, whatever the number of
features: the transaction record, the query to the account, on to the merchant, the answers back. The very
first one also pays one missing-state round trip per stateful function type (once per runtime start).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from statefun import RequestReplyHandler

from fraud_common.contract import TRANSACTION_RECORD
from fraud_dev.bench.request_mix import RecordingRuntime
from fraud_functions.live_models import LiveModels
from fraud_functions.settings import FunctionSettings
from fraud_functions.wiring import wire
from tests.support.oracle import disagreements
from tests.unit.oracle.replay import Replay, merchant_service, recorded_events, recorded_inputs, use_clock

EVENTS = recorded_events()
INPUTS = recorded_inputs(EVENTS)
TARGET = 4  # issue 18: requests_per_transaction <= 4
STATEFUL_TYPES = 3  # transaction-manager, account, merchant: each registers its state on first use


@dataclass
class CountingReplay(Replay):
    """The replay, counting the requests each transaction record causes until nothing is in flight."""

    requests: dict[str, int] = field(default_factory=dict)

    async def _deliver(self, item: Any) -> None:
        assert isinstance(self.runtime, RecordingRuntime)
        before = len(self.runtime.bodies)
        await super()._deliver(item)
        if item.typename == TRANSACTION_RECORD:
            self.requests[item.id] = len(self.runtime.bodies) - before


async def test_every_transaction_costs_four_requests_and_is_decided_as_the_oracle_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = use_clock(monkeypatch)
    settings = FunctionSettings.from_env({})
    runtime = RecordingRuntime(
        RequestReplyHandler(wire(settings, merchant_service(), LiveModels.load(settings)).functions)
    )
    runtime.recording = True
    replay = CountingReplay(runtime, clock)
    decisions = await replay.run(EVENTS)

    assert disagreements(decisions, INPUTS) == []
    first, *rest = [replay.requests[t.transaction_id] for t in INPUTS.transactions]
    assert first == TARGET + STATEFUL_TYPES
    # New accounts and merchants among them: a key seen for the first time costs no request more.
    assert len({t.account for t in INPUTS.transactions}) > 1 and len({t.merchant for t in INPUTS.transactions}) > 1
    assert set(rest) == {TARGET}, f"requests per transaction: {sorted(set(rest))}"
