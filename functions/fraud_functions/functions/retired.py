"""The function types ADR 0016 retired (one per feature, and the model), still served so that an upgrade cannot fail.

A running job upgraded across ADR 0016 still holds messages for these types:
fraud-count's `ExpireFraud` timers (up to FRAUD_WINDOW_SECONDS), velocity's
`ExpireVelocity` timers (up to an hour), and queries and model inputs in flight
at the moment of the upgrade. A type the function server did not serve would
fail every one of those requests, and the runtime would restart the job from
its checkpoint, where the same timers wait again: a restart loop. So each old
type is still declared: it counts and drops what it gets (the feature's state
lives in fraud/account now, see ADR 0016 for what an upgrade loses), and
deletes the old state it finds, so that fraud-count's counts (kept without a
TTL) do not stay in the runtime's state for ever. Its transaction decides at its
deadline with the fallbacks of what did not answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from statefun import FloatType, IntType, Message, ValueSpec, make_json_type

from fraud_common.contract import NAMESPACE
from fraud_functions.declarations import declare
from fraud_functions.message_context import MessageContext
from fraud_functions.outcomes import drop_unexpected
from fraud_functions.settings import FunctionSettings

RETIRED = "retired_function"
FRAUD_COUNT, VELOCITY, THRESHOLD, MODEL = (
    f"{NAMESPACE}/{name}" for name in ("fraud-count", "velocity", "threshold", "model")
)
RETIRED_TYPENAMES = (FRAUD_COUNT, VELOCITY, THRESHOLD, MODEL)
SUMMARY = (
    "retired by ADR 0016 (the features are on fraud/account, transaction-manager scores): counts and drops what an "
    "upgraded job still sends"
)


class Retired:
    """Drops every message, counted, and deletes the old state it is handed."""

    def __init__(self, typename: str, state_names: tuple[str, ...]) -> None:
        self._typename = typename
        self._state_names = state_names

    async def __call__(self, context: MessageContext, message: Message) -> None:
        for name in self._state_names:
            if getattr(context.storage, name) is not None:
                delattr(context.storage, name)
        drop_unexpected(self._typename, context, RETIRED, message.value_typename())


def retire(typename: str, takes: tuple[str, ...], state: Callable[[FunctionSettings], list[ValueSpec]]) -> None:
    """Declare a retired type with the state specs it had (a state's TTL is part of how the runtime restores it)."""
    names = tuple(spec.name for spec in state(FunctionSettings()))
    declare(typename=typename, summary=SUMMARY, takes=takes, state=state)(lambda resources: Retired(typename, names))


retire(FRAUD_COUNT, ("fraud/ExpireFraud", "fraud/LookupQuery"), lambda settings: [ValueSpec("count", IntType)])
retire(
    VELOCITY,
    ("fraud/ExpireVelocity", "fraud/LookupQuery"),
    lambda settings: [
        ValueSpec(
            "windows",
            make_json_type("fraud.state/Velocity"),
            expire_after_write=timedelta(milliseconds=3_600_000 + 2 * 60_000),
        )
    ],
)
retire(
    THRESHOLD,
    ("fraud/LookupQuery",),
    lambda settings: [
        ValueSpec("threshold", FloatType, expire_after_write=timedelta(seconds=settings.threshold_ttl_seconds))
    ],
)
retire(MODEL, ("fraud/ModelInput",), lambda settings: [])
