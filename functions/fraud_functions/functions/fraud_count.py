"""The fraud count: confirmed frauds per account inside a sliding window, a feature of every transaction.

Each confirmation from the `confirmed` topic increments the count and schedules
a delayed `ExpireFraud` to this same address (the account's function, fraud/account) after the window; when it fires
the count goes down again. Delayed messages are timers in the runtime's
checkpointed state, so the window survives restarts. The count is deleted at
zero (no state for accounts without recent fraud), never goes negative, and an
expiry that finds no state (for example after a manual state reset) is counted,
not raised.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from statefun import IntType, Message, ValueSpec

from fraud_common.contract import CONFIRM_FRAUD_RECORD, ContractError, parse_confirmation
from fraud_common.envelope import parse_record
from fraud_functions.declarations import ACCOUNT, Resources, feature
from fraud_functions.keys import Answered
from fraud_functions.message_context import MessageContext
from fraud_functions.messages import ExpireFraud, FeatureQuery, outgoing
from fraud_functions.outcomes import drop_unexpected, send_to_dead_letters

log = logging.getLogger(__name__)

FRAUD_COUNT = "fraud_count"


@feature(
    name=FRAUD_COUNT,
    key=ACCOUNT,
    summary="confirmed frauds of an account in a sliding window (FRAUD_WINDOW_SECONDS), from delayed self-messages",
    provides=("count",),
    fallback=lambda settings: {"count": 0},
    takes=(CONFIRM_FRAUD_RECORD, ExpireFraud.TYPENAME),
    # No TTL: the delayed expiries bring the count back to zero, and zero deletes it.
    state=lambda settings: [ValueSpec(name="count", type=IntType)],
)
class FraudCount:
    def __init__(self, resources: Resources) -> None:
        self._window = timedelta(seconds=resources.settings.fraud_window_seconds)

    async def answer(self, context: MessageContext, query: FeatureQuery) -> Answered:
        return Answered({"count": context.storage.count or 0})

    async def __call__(self, context: MessageContext, message: Message) -> None:
        if message.value_typename() == CONFIRM_FRAUD_RECORD:
            self._on_confirmation(context, message)
        else:
            self._on_expire(context)

    def _on_confirmation(self, context: MessageContext, message: Message) -> None:
        try:
            parse_record(message.raw_value(), context.address.id, "account key", parse_confirmation)
        except ContractError as error:
            send_to_dead_letters(context.address.typename, context, message, error)
            return
        context.storage.count = (context.storage.count or 0) + 1
        context.send_after(self._window, outgoing(context.address.typename, context.address.id, ExpireFraud()))
        log.info("fraud confirmed", extra={"account": context.address.id, "count": context.storage.count})

    def _on_expire(self, context: MessageContext) -> None:
        count = context.storage.count
        if not count:
            drop_unexpected(context.address.typename, context, "expire_without_count", "no confirmed fraud to expire")
            return
        if count <= 1:
            del context.storage.count
        else:
            context.storage.count = count - 1
