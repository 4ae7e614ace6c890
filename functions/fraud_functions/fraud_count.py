"""fraud/fraud-count: confirmed frauds per account inside a sliding window.

Each confirmation increments the count and schedules a delayed `ExpireFraud`
to this same address after the window; when it fires the count goes down
again. Delayed messages are timers in the runtime's checkpointed state, so the
window survives restarts. The count is deleted at zero (no state for accounts
without recent fraud), never goes negative, and an expiry that finds no state
(for example after a manual state reset) is counted, not raised.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from statefun import Context, IntType, Message, ValueSpec

from fraud_common.contract import ContractError, parse_confirmation
from fraud_common.envelope import parse_record
from fraud_functions.addresses import FRAUD_COUNT
from fraud_functions.messages import CONFIRM_FRAUD_RECORD, ExpireFraud, FraudCount, QueryFraud, outgoing
from fraud_functions.outcomes import (
    drop_unexpected,
    read_request,
    reject_unknown_type,
    reply_to_caller,
    send_to_dead_letters,
)

log = logging.getLogger(__name__)


def state_specs() -> list[ValueSpec]:
    """No TTL: the delayed expiries bring the count back to zero, and zero deletes it."""
    return [ValueSpec(name="count", type=IntType)]


class FraudCounter:
    def __init__(self, window_seconds: int, clock_ms=lambda: int(time.time() * 1000)) -> None:
        self._window = timedelta(seconds=window_seconds)
        self._clock_ms = clock_ms

    async def __call__(self, context: Context, message: Message) -> None:
        if message.value_typename() == CONFIRM_FRAUD_RECORD:
            self._on_confirmation(context, message)
        elif message.is_type(ExpireFraud.STATEFUN_TYPE):
            self._on_expire(context)
        elif message.is_type(QueryFraud.STATEFUN_TYPE):
            self._on_query(context, message)
        else:
            reject_unknown_type(FRAUD_COUNT, context, message)

    def _on_confirmation(self, context: Context, message: Message) -> None:
        try:
            _, confirmation = parse_record(message.raw_value(), context.address.id, "account key",
                                           parse_confirmation)
        except ContractError as error:
            send_to_dead_letters(FRAUD_COUNT, context, message, error)
            return
        context.storage.count = (context.storage.count or 0) + 1
        expiry = ExpireFraud(account=confirmation.account, confirmed_at_ms=self._clock_ms())
        context.send_after(self._window, outgoing(FRAUD_COUNT, context.address.id, expiry))
        log.info("fraud confirmed", extra={"account": confirmation.account, "count": context.storage.count})

    def _on_expire(self, context: Context) -> None:
        count = context.storage.count
        if not count:
            drop_unexpected(FRAUD_COUNT, context, "expire_without_count", "no confirmed fraud to expire")
            return
        if count <= 1:
            del context.storage.count
        else:
            context.storage.count = count - 1

    def _on_query(self, context: Context, message: Message) -> None:
        query = read_request(FRAUD_COUNT, context, message, QueryFraud)
        if query is None:
            return
        reply_to_caller(context, FraudCount(transaction_id=query.transaction_id, account=context.address.id,
                                            count=context.storage.count or 0))
