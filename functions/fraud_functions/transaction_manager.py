"""fraud/transaction-manager: one instance per transaction, joining its features.

On a transaction it stores the record and asks fraud-count (id = account) and
merchant (id = merchant) in parallel. The two replies may arrive in either
order; when both are in it sends a FeatureVector to the model, and on the
model's score it emits an alert if the score reaches the threshold, then clears
its state. The pending state has a time-to-live, so a reply that never comes
cannot leak state forever.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from statefun import Context, Message, ValueSpec, kafka_egress_message, make_json_type

from fraud_common.contract import ALERTS_TOPIC, TRANSACTIONS_TOPIC, Alert, ContractError, encode, parse_transaction
from fraud_functions.addresses import ALERTS_EGRESS, FRAUD_COUNT, MERCHANT, MODEL, TRANSACTION_MANAGER
from fraud_functions.messages import (
    TRANSACTION_RECORD,
    FeatureVector,
    FraudCount,
    MerchantScore,
    ModelScore,
    QueryFraud,
    QueryMerchant,
    outgoing,
)
from fraud_functions.metrics import DECISION_LATENCY, DECISIONS
from fraud_functions.outcomes import drop_unexpected, read_message, reject_unknown_type, send_to_dead_letters

log = logging.getLogger(__name__)

PENDING_TYPE = make_json_type("fraud.state/PendingTransaction")


def state_specs(ttl_seconds: int) -> list[ValueSpec]:
    """The state of one transaction; it expires `ttl_seconds` after the last write."""
    return [ValueSpec(name="pending", type=PENDING_TYPE, expire_after_write=timedelta(seconds=ttl_seconds))]


@dataclass
class Pending:
    """A transaction waiting for its features and score (stored as JSON)."""

    transaction: dict[str, Any]
    received_ms: int
    fraud_count: int | None = None
    merchant_score: float | None = None
    merchant_degraded: bool = False
    scoring: bool = False

    @classmethod
    def load(cls, value: dict[str, Any]) -> "Pending":
        return cls(**value)

    def dump(self) -> dict[str, Any]:
        return dict(vars(self))


class TransactionManager:
    def __init__(self, alert_threshold: float, clock_ms=lambda: int(time.time() * 1000)) -> None:
        self._threshold = alert_threshold
        self._clock_ms = clock_ms

    async def __call__(self, context: Context, message: Message) -> None:
        if message.value_typename() == TRANSACTION_RECORD:
            self._on_transaction(context, message)
        elif message.is_type(FraudCount.STATEFUN_TYPE):
            self._on_reply(context, message, FraudCount)
        elif message.is_type(MerchantScore.STATEFUN_TYPE):
            self._on_reply(context, message, MerchantScore)
        elif message.is_type(ModelScore.STATEFUN_TYPE):
            self._on_score(context, message)
        else:
            reject_unknown_type(TRANSACTION_MANAGER, context, message)

    def _on_transaction(self, context: Context, message: Message) -> None:
        transaction_id = context.address.id
        try:
            transaction = parse_transaction(transaction_id, message.raw_value())
            if context.storage.pending is not None:
                raise ContractError("duplicate_transaction_id", f"transaction {transaction_id} is already in flight")
        except ContractError as error:
            send_to_dead_letters(context, TRANSACTION_MANAGER, f"kafka:{TRANSACTIONS_TOPIC}", error,
                                 message.raw_value())
            return
        pending = Pending(transaction=transaction.to_record(), received_ms=self._clock_ms())
        context.storage.pending = pending.dump()
        context.send(outgoing(FRAUD_COUNT, transaction.account, QueryFraud(transaction_id=transaction_id)))
        context.send(outgoing(MERCHANT, transaction.merchant, QueryMerchant(transaction_id=transaction_id)))
        log.debug("transaction received", extra={"transaction_id": transaction_id})

    def _on_reply(self, context: Context, message: Message, kind: type[FraudCount] | type[MerchantScore]) -> None:
        joined = self._reply_with_pending(context, message, kind)
        if joined is None:
            return
        reply, pending = joined
        if isinstance(reply, FraudCount):
            if pending.fraud_count is not None:
                drop_unexpected(TRANSACTION_MANAGER, context, "duplicate_reply", kind.TYPENAME)
                return
            pending.fraud_count = reply.count
        else:
            if pending.merchant_score is not None:
                drop_unexpected(TRANSACTION_MANAGER, context, "duplicate_reply", kind.TYPENAME)
                return
            pending.merchant_score = reply.score
            pending.merchant_degraded = reply.degraded
        if pending.fraud_count is not None and pending.merchant_score is not None:
            self._request_score(context, pending)
        context.storage.pending = pending.dump()

    def _request_score(self, context: Context, pending: Pending) -> None:
        transaction = pending.transaction
        vector = FeatureVector(
            transaction_id=context.address.id,
            account=transaction["account"],
            merchant=transaction["merchant"],
            amount=transaction["amount"],
            fraud_count=pending.fraud_count or 0,
            merchant_score=pending.merchant_score or 0.0,
            merchant_degraded=pending.merchant_degraded,
        )
        # The model is stateless; addressing it by transaction id spreads the load over all key groups.
        context.send(outgoing(MODEL, context.address.id, vector))
        pending.scoring = True

    def _on_score(self, context: Context, message: Message) -> None:
        joined = self._reply_with_pending(context, message, ModelScore)
        if joined is None:
            return
        score, pending = joined
        if not pending.scoring:
            drop_unexpected(TRANSACTION_MANAGER, context, "premature_score", "score before features")
            return
        transaction = pending.transaction
        alerted = score.score >= self._threshold
        if alerted:
            alert = Alert(
                account=transaction["account"],
                merchant=transaction["merchant"],
                amount=transaction["amount"],
                timestamp=transaction["timestamp"],
                transaction_id=context.address.id,
                score=score.score,
                threshold=self._threshold,
                model_version=score.model_version,
                reasons=score.reasons,
                degraded=["merchant_score"] if pending.merchant_degraded else [],
            )
            context.send_egress(kafka_egress_message(
                typename=ALERTS_EGRESS, topic=ALERTS_TOPIC, key=alert.account, value=encode(alert.to_record())))
            log.info("alert emitted", extra={"transaction_id": context.address.id, "score": score.score})
        DECISIONS.labels("alert" if alerted else "pass").inc()
        DECISION_LATENCY.observe(max(0, self._clock_ms() - pending.received_ms) / 1000.0)
        del context.storage.pending

    @staticmethod
    def _reply_with_pending(context: Context, message: Message, kind):
        """A readable reply and the transaction it belongs to, or None (counted) for either missing."""
        reply = read_message(TRANSACTION_MANAGER, context, message, kind)
        if reply is None:
            return None
        value = context.storage.pending
        if value is None:
            # Expired by TTL, already decided, or never existed: nothing to join with.
            drop_unexpected(TRANSACTION_MANAGER, context, "late_reply", kind.TYPENAME)
            return None
        return reply, Pending.load(value)
