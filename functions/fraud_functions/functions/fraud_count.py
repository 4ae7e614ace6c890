"""fraud/fraud-count: confirmed frauds per account inside a sliding window, a lookup of every transaction.

Each confirmation from the `confirmed` topic increments the count and schedules
a delayed `ExpireFraud` to this same address after the window; when it fires
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

from fraud_common.contract import CONFIRM_FRAUD_RECORD, NAMESPACE, ContractError, parse_confirmation
from fraud_common.envelope import parse_record
from fraud_functions.declarations import Lookup, Resources, declare
from fraud_functions.message_context import MessageContext
from fraud_functions.messages import (
    ExpireFraud,
    LookupAnswer,
    LookupQuery,
    outgoing,
)
from fraud_functions.outcomes import (
    drop_unexpected,
    read_request,
    reject_unknown_type,
    reply_to_caller,
    send_to_dead_letters,
)

log = logging.getLogger(__name__)

FRAUD_COUNT = f"{NAMESPACE}/fraud-count"
FRAUD_COUNT_LOOKUP = "fraud_count"


@declare(
    typename=FRAUD_COUNT,
    summary="confirmed frauds of an account in a sliding window (FRAUD_WINDOW_SECONDS), from delayed self-messages",
    takes=(CONFIRM_FRAUD_RECORD, LookupQuery.TYPENAME, ExpireFraud.TYPENAME),
    answers=(LookupAnswer.TYPENAME,),
    # No TTL: the delayed expiries bring the count back to zero, and zero deletes it.
    state=lambda settings: [ValueSpec(name="count", type=IntType)],
    lookup=Lookup(
        FRAUD_COUNT_LOOKUP,
        key=lambda transaction: transaction.account,
        provides=("count",),
        fallback=lambda settings: {"count": 0},
    ),
)
class FraudCountFunction:
    def __init__(self, resources: Resources) -> None:
        self._window = timedelta(seconds=resources.settings.fraud_window_seconds)

    async def __call__(self, context: MessageContext, message: Message) -> None:
        if message.value_typename() == CONFIRM_FRAUD_RECORD:
            self._on_confirmation(context, message)
        elif message.is_type(ExpireFraud.STATEFUN_TYPE):
            self._on_expire(context)
        elif message.is_type(LookupQuery.STATEFUN_TYPE):
            if (query := read_request(FRAUD_COUNT, context, message, LookupQuery)) is not None:
                reply_to_caller(
                    context,
                    LookupAnswer(query.transaction_id, FRAUD_COUNT_LOOKUP, {"count": context.storage.count or 0}),
                )
        else:
            reject_unknown_type(FRAUD_COUNT, context, message)

    def _on_confirmation(self, context: MessageContext, message: Message) -> None:
        try:
            parse_record(message.raw_value(), context.address.id, "account key", parse_confirmation)
        except ContractError as error:
            send_to_dead_letters(FRAUD_COUNT, context, message, error)
            return
        context.storage.count = (context.storage.count or 0) + 1
        context.send_after(self._window, outgoing(FRAUD_COUNT, context.address.id, ExpireFraud()))
        log.info("fraud confirmed", extra={"account": context.address.id, "count": context.storage.count})

    def _on_expire(self, context: MessageContext) -> None:
        count = context.storage.count
        if not count:
            drop_unexpected(FRAUD_COUNT, context, "expire_without_count", "no confirmed fraud to expire")
            return
        if count <= 1:
            del context.storage.count
        else:
            context.storage.count = count - 1
