"""fraud/transaction-manager: one instance per transaction id, joining its features into one decision.

On a transaction it stores the record, asks fraud-count (id = account) and
merchant (id = merchant) in parallel, and schedules a decision deadline to
itself. The two replies may arrive in either order; when both are in it sends
a FeatureVector to the model, and on the model's score it decides: `alert`
(plus an alert record) when the score reaches the threshold, `no_alert`
otherwise.

Every transaction id gets one decision on the `decisions` egress, so no
transaction vanishes unaccounted: a malformed record is decided `dead_letter`,
and a transaction whose replies do not all arrive by the deadline is decided
`expired`. Once decided, the id is remembered for DECIDED_RETENTION_SECONDS: a
record sent again with that id is dead-lettered as a duplicate instead of
being scored twice, except after a `dead_letter` decision, so that a corrected
record can be replayed. The pending state also has a time-to-live, longer
than the deadline, as a backstop.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any, Callable

from statefun import Context, Message, ValueSpec, kafka_egress_message, make_json_type

from fraud_common.contract import (
    ALERTS_TOPIC,
    DECISIONS_TOPIC,
    Alert,
    ContractError,
    Decision,
    encode,
    parse_transaction,
)
from fraud_common.envelope import parse_record
from fraud_common.tracing import current_traceparent
from fraud_functions.addresses import ALERTS_EGRESS, DECISIONS_EGRESS, FRAUD_COUNT, MERCHANT, MODEL, TRANSACTION_MANAGER
from fraud_functions.messages import (
    TRANSACTION_RECORD,
    DecisionDeadline,
    FeatureVector,
    FraudCount,
    MerchantScore,
    ModelScore,
    QueryFraud,
    QueryMerchant,
    outgoing,
)
from fraud_functions.metrics import DECISION_LATENCY, DECISIONS, TRANSACTIONS_STARTED
from fraud_functions.outcomes import drop_unexpected, read_message, reject_unknown_type, send_to_dead_letters

log = logging.getLogger(__name__)

PENDING_TYPE = make_json_type("fraud.state/PendingTransaction")
DECIDED_TYPE = make_json_type("fraud.state/DecidedTransaction")


def state_specs(ttl_seconds: int, decided_retention_seconds: int) -> list[ValueSpec]:
    """The transaction while it waits (TTL after the last write), and its decision once made."""
    return [
        ValueSpec(name="pending", type=PENDING_TYPE, expire_after_write=timedelta(seconds=ttl_seconds)),
        ValueSpec(name="decided", type=DECIDED_TYPE, expire_after_write=timedelta(seconds=decided_retention_seconds)),
    ]


@dataclass
class Pending:
    """A transaction waiting for its features and score (stored as JSON)."""

    transaction: dict[str, Any]
    received_ms: int
    deadline_token: str = ""
    fraud_count: int | None = None
    merchant_score: float | None = None
    merchant_degraded: bool = False
    scoring: bool = False

    @classmethod
    def load(cls, value: dict[str, Any]) -> "Pending":
        """Read stored state; fields a newer or older version wrote and this one lacks are ignored."""
        known = {item.name for item in fields(cls)}
        return cls(**{name: item for name, item in value.items() if name in known})

    def dump(self) -> dict[str, Any]:
        return dict(vars(self))

    def missing(self) -> list[str]:
        """What the transaction still waits for."""
        waiting = [name for name, value in (("fraud_count", self.fraud_count),
                                             ("merchant_score", self.merchant_score)) if value is None]
        return waiting or ["model_score"]


@dataclass(frozen=True)
class Verdict:
    """What the decision says beyond its outcome."""

    outcome: str
    score: float | None = None
    model_version: str | None = None
    reasons: tuple[str, ...] = ()
    reason: str | None = None


class TransactionManager:
    def __init__(
        self,
        alert_threshold: float,
        decision_deadline_seconds: int,
        decisions_enabled: bool,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        new_token: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._threshold = alert_threshold
        self._deadline = timedelta(seconds=decision_deadline_seconds)
        self._decisions_enabled = decisions_enabled
        self._clock_ms = clock_ms
        self._new_token = new_token

    async def __call__(self, context: Context, message: Message) -> None:
        if message.value_typename() == TRANSACTION_RECORD:
            self._on_transaction(context, message)
        elif message.is_type(FraudCount.STATEFUN_TYPE):
            self._on_reply(context, message, FraudCount)
        elif message.is_type(MerchantScore.STATEFUN_TYPE):
            self._on_reply(context, message, MerchantScore)
        elif message.is_type(ModelScore.STATEFUN_TYPE):
            self._on_score(context, message)
        elif message.is_type(DecisionDeadline.STATEFUN_TYPE):
            self._on_deadline(context, message)
        else:
            reject_unknown_type(TRANSACTION_MANAGER, context, message)

    def on_failure(self, context: Context, message: Message, error: ContractError) -> None:
        """After a bug (effects undone, message dead-lettered): a transaction record still gets its decision."""
        if message.value_typename() == TRANSACTION_RECORD and self._first_record(context):
            self._decide(context, None, Verdict("dead_letter", reason=error.reason))

    # -- the transaction -----------------------------------------------------------------------
    def _on_transaction(self, context: Context, message: Message) -> None:
        transaction_id = context.address.id
        try:
            _, transaction = parse_record(message.raw_value(), transaction_id, "transaction id", parse_transaction)
        except ContractError as error:
            send_to_dead_letters(TRANSACTION_MANAGER, context, message, error)
            if self._first_record(context):
                self._decide(context, None, Verdict("dead_letter", reason=error.reason))
            return
        if not self._accepts_new_record(context):
            send_to_dead_letters(TRANSACTION_MANAGER, context, message, ContractError(
                "duplicate_transaction_id", f"transaction {transaction_id} is {self._status(context)}"))
            return
        token = self._new_token()
        pending = Pending(transaction=transaction.to_record(), received_ms=self._clock_ms(), deadline_token=token)
        context.storage.pending = pending.dump()
        context.send(outgoing(FRAUD_COUNT, transaction.account, QueryFraud(transaction_id=transaction_id)))
        context.send(outgoing(MERCHANT, transaction.merchant, QueryMerchant(transaction_id=transaction_id)))
        context.send_after(self._deadline, outgoing(TRANSACTION_MANAGER, transaction_id, DecisionDeadline(token)),
                           cancellation_token=token)
        TRANSACTIONS_STARTED.inc()
        log.debug("transaction received", extra={"transaction_id": transaction_id})

    @staticmethod
    def _first_record(context: Context) -> bool:
        """No record of this id is in flight or decided."""
        return context.storage.pending is None and context.storage.decided is None

    @staticmethod
    def _accepts_new_record(context: Context) -> bool:
        """Nothing in flight, and no decision other than `dead_letter` (a corrected record may be replayed)."""
        decided = context.storage.decided
        return context.storage.pending is None and (decided is None or decided.get("outcome") == "dead_letter")

    @staticmethod
    def _status(context: Context) -> str:
        decided = context.storage.decided
        if context.storage.pending is not None or not isinstance(decided, dict):
            return "already in flight"
        return f"already decided ({decided.get('outcome')} at {decided.get('decided_at_ms')} ms)"

    # -- replies -------------------------------------------------------------------------------
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
        outcome = "alert" if score.score >= self._threshold else "no_alert"
        self._decide(context, pending, Verdict(outcome, score=score.score, model_version=score.model_version,
                                               reasons=tuple(score.reasons)))

    def _on_deadline(self, context: Context, message: Message) -> None:
        deadline = read_message(TRANSACTION_MANAGER, context, message, DecisionDeadline)
        if deadline is None:
            return
        value = context.storage.pending
        pending = Pending.load(value) if value is not None else None
        if pending is None or pending.deadline_token != deadline.token:
            drop_unexpected(TRANSACTION_MANAGER, context, "stale_deadline", "no pending transaction with this token")
            return
        waiting = ", ".join(pending.missing())
        self._decide(context, pending, Verdict("expired", reason=f"deadline_passed: waiting for {waiting}"))

    @staticmethod
    def _reply_with_pending(context: Context, message: Message, kind):
        """A readable reply and the transaction it belongs to, or None (counted) for either missing."""
        reply = read_message(TRANSACTION_MANAGER, context, message, kind)
        if reply is None:
            return None
        value = context.storage.pending
        if value is None:
            # Decided already (expired, or a duplicate reply), or never existed: nothing to join with.
            drop_unexpected(TRANSACTION_MANAGER, context, "late_reply", kind.TYPENAME)
            return None
        return reply, Pending.load(value)

    # -- the decision --------------------------------------------------------------------------
    def _decide(self, context: Context, pending: Pending | None, verdict: Verdict) -> None:
        """Record the one decision of this transaction: state, alert, `decisions` record, metrics."""
        now = self._clock_ms()
        degraded = ["merchant_score"] if pending is not None and pending.merchant_degraded else []
        decision = Decision(
            transaction_id=context.address.id,
            outcome=verdict.outcome,
            decided_at_ms=now,
            transaction=pending.transaction if pending is not None else None,
            score=verdict.score,
            threshold=self._threshold if verdict.score is not None else None,
            model_version=verdict.model_version,
            reasons=list(verdict.reasons),
            degraded=degraded,
            reason=verdict.reason,
            latency_ms=max(0, now - pending.received_ms) if pending is not None else None,
            traceparent=current_traceparent(),
        )
        context.storage.decided = {"outcome": verdict.outcome, "decided_at_ms": now}
        if pending is not None:
            del context.storage.pending
            if verdict.outcome != "expired":  # an expired transaction's deadline has just fired
                context.cancel_delayed_message(pending.deadline_token)
        if verdict.outcome == "alert" and pending is not None:
            self._emit_alert(context, pending, decision)
        if self._decisions_enabled:
            context.send_egress(kafka_egress_message(
                typename=DECISIONS_EGRESS, topic=DECISIONS_TOPIC, key=decision.transaction_id,
                value=encode(decision.to_record())))
        DECISIONS.labels(verdict.outcome, "true" if degraded else "false").inc()
        if decision.latency_ms is not None:
            DECISION_LATENCY.observe(decision.latency_ms / 1000.0)
        if verdict.outcome in ("expired", "dead_letter"):
            log.warning("transaction decided without a score",
                        extra={"transaction_id": decision.transaction_id, "outcome": verdict.outcome,
                               "reason": verdict.reason})

    def _emit_alert(self, context: Context, pending: Pending, decision: Decision) -> None:
        transaction = pending.transaction
        alert = Alert(
            account=transaction["account"],
            merchant=transaction["merchant"],
            amount=transaction["amount"],
            timestamp=transaction["timestamp"],
            transaction_id=decision.transaction_id,
            score=decision.score or 0.0,
            threshold=self._threshold,
            model_version=decision.model_version or "",
            reasons=decision.reasons,
            degraded=decision.degraded,
            traceparent=decision.traceparent,
        )
        context.send_egress(kafka_egress_message(
            typename=ALERTS_EGRESS, topic=ALERTS_TOPIC, key=alert.account, value=encode(alert.to_record())))
        log.info("alert emitted", extra={"transaction_id": decision.transaction_id, "score": decision.score})
