"""fraud/threshold: an account's own alert threshold, from the `thresholds` topic, asked for every transaction.

The workshop's traffic generator writes `{"account", "threshold"}` records keyed by
account, the threshold from 1 to 100; the latest one for an account replaces the
one before and is kept for THRESHOLD_TTL_SECONDS (30 days) after it was set.
transaction-manager asks every transaction's account and, when it has a threshold,
alerts when the model's score (0..1) reaches threshold / 100 instead of the model's
own threshold; the decision says which one decided (`threshold_source`).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from statefun import FloatType, Message, ValueSpec

from fraud_common.contract import NAMESPACE, THRESHOLD_RECORD, ContractError, parse_threshold
from fraud_common.envelope import parse_record
from fraud_functions.declarations import Lookup, Resources, declare
from fraud_functions.message_context import MessageContext
from fraud_functions.messages import LookupAnswer, LookupQuery
from fraud_functions.outcomes import (
    read_request,
    reject_unknown_type,
    reply_to_caller,
    send_to_dead_letters,
)

log = logging.getLogger(__name__)

THRESHOLD = f"{NAMESPACE}/threshold"


@declare(
    typename=THRESHOLD,
    summary="an account's own alert threshold (1..100, from the thresholds topic), kept THRESHOLD_TTL_SECONDS",
    takes=(THRESHOLD_RECORD, LookupQuery.TYPENAME),
    answers=(LookupAnswer.TYPENAME,),
    state=lambda settings: [
        ValueSpec(
            name="threshold", type=FloatType, expire_after_write=timedelta(seconds=settings.threshold_ttl_seconds)
        )
    ],
    # No answer by the deadline: no custom threshold, the model's decides.
    lookup=Lookup(
        "threshold",
        key=lambda transaction: transaction.account,
        provides=("threshold",),
        fallback=lambda settings: {},
        threshold=True,
    ),
)
class ThresholdFunction:
    def __init__(self, resources: Resources) -> None:
        pass

    async def __call__(self, context: MessageContext, message: Message) -> None:
        if message.value_typename() == THRESHOLD_RECORD:
            self._on_threshold(context, message)
        elif message.is_type(LookupQuery.STATEFUN_TYPE):
            if (query := read_request(THRESHOLD, context, message, LookupQuery)) is not None:
                threshold = context.storage.threshold
                values = {} if threshold is None else {"threshold": threshold}
                reply_to_caller(context, LookupAnswer(query.transaction_id, "threshold", values))
        else:
            reject_unknown_type(THRESHOLD, context, message)

    @staticmethod
    def _on_threshold(context: MessageContext, message: Message) -> None:
        try:
            _, record = parse_record(message.raw_value(), context.address.id, "account key", parse_threshold)
        except ContractError as error:
            send_to_dead_letters(THRESHOLD, context, message, error)
            return
        context.storage.threshold = record.threshold
        log.info("account threshold set", extra={"account": record.account, "threshold": record.threshold})
