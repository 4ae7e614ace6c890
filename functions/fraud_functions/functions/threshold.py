"""The account's threshold: its own alert threshold, from the `thresholds` topic, a feature of every transaction.

The workshop's traffic generator writes `{"account", "threshold"}` records keyed by
account, the threshold from 1 to 100; the latest one for an account replaces the
one before and is kept for THRESHOLD_TTL_SECONDS (30 days) after it was set.
transaction-manager gets it with every transaction's account features and, when it has one,
alerts when the model's score (0..1) reaches threshold / 100 instead of the model's
own threshold; the decision says which one decided (`threshold_source`).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from statefun import FloatType, Message, ValueSpec

from fraud_common.contract import THRESHOLD_RECORD, ContractError, parse_threshold
from fraud_common.envelope import parse_record
from fraud_functions.declarations import ACCOUNT, Resources, feature
from fraud_functions.keys import Answered
from fraud_functions.message_context import MessageContext
from fraud_functions.messages import FeatureQuery
from fraud_functions.outcomes import send_to_dead_letters

log = logging.getLogger(__name__)

THRESHOLD = "threshold"


@feature(
    name=THRESHOLD,
    key=ACCOUNT,
    summary="an account's own alert threshold (1..100, from the thresholds topic), kept THRESHOLD_TTL_SECONDS",
    provides=("threshold",),
    # No answer by the deadline: no custom threshold, the model's decides.
    fallback=lambda settings: {},
    takes=(THRESHOLD_RECORD,),
    state=lambda settings: [
        ValueSpec(
            name="threshold", type=FloatType, expire_after_write=timedelta(seconds=settings.threshold_ttl_seconds)
        )
    ],
    threshold=True,
)
class Threshold:
    def __init__(self, resources: Resources) -> None:
        pass

    async def answer(self, context: MessageContext, query: FeatureQuery) -> Answered:
        threshold = context.storage.threshold
        return Answered({} if threshold is None else {"threshold": threshold})

    async def __call__(self, context: MessageContext, message: Message) -> None:
        try:
            _, record = parse_record(message.raw_value(), context.address.id, "account key", parse_threshold)
        except ContractError as error:
            send_to_dead_letters(context.address.typename, context, message, error)
            return
        context.storage.threshold = record.threshold
        log.info("account threshold set", extra={"account": record.account, "threshold": record.threshold})
