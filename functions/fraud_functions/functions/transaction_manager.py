"""fraud/transaction-manager: one instance per transaction id, joining its lookups into one decision.

On a transaction it stores the record, asks every declared lookup function
(fraud-count for the account, merchant for the merchant, ... see
fraud_functions.declarations) in parallel, and schedules a decision deadline to
itself. The answers may arrive in any order and are kept by lookup name; when
all are in it sends the model the transaction's values, and on the model's
score it decides: `alert` (plus an alert record) when the score reaches the
threshold (the account's own from the `thresholds` topic, else the model's),
`no_alert` otherwise; a challenger's score, when the model sends one, is
recorded beside it with whether it would have alerted (it never alerts).
When the deadline passes first, the missing lookups' fallback values are used
and flagged degraded; if the model then does not answer by a second deadline, the transaction is decided `expired`.

Every transaction id gets one decision on the `decisions` egress, so no
transaction vanishes unaccounted: a malformed record is decided `dead_letter`.
Once decided, the id is remembered for DECIDED_RETENTION_SECONDS: a record sent
again with that id is dead-lettered as a duplicate instead of being scored
twice, except after a `dead_letter` decision, so that a corrected record can be
replayed. The pending state also has a time-to-live, longer than the deadline,
as a backstop.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any, TypeVar

from statefun import Message, ValueSpec, kafka_egress_message, make_json_type

from fraud_common.contract import (
    ALERTS_TOPIC,
    DECISIONS_TOPIC,
    TRANSACTION_RECORD,
    Alert,
    ContractError,
    Decision,
    Outcome,
    ShadowScore,
    Transaction,
    encode,
    parse_transaction,
)
from fraud_common.envelope import parse_record
from fraud_common.tracing import current_traceparent
from fraud_functions.addresses import (
    ALERTS_EGRESS,
    DECISIONS_EGRESS,
    TRANSACTION_MANAGER,
)
from fraud_functions.declarations import Resources, declare
from fraud_functions.functions.model import MODEL
from fraud_functions.live_models import CHALLENGER, CHAMPION, LiveModels
from fraud_functions.message_context import MessageContext
from fraud_functions.messages import (
    DecisionDeadline,
    JsonMessage,
    LookupAnswer,
    LookupQuery,
    ModelInput,
    ModelScore,
    outgoing,
)
from fraud_functions.metrics import (
    DECISION_LATENCY,
    DECISIONS,
    TRANSACTIONS_STARTED,
    challenger_agreement,
    version_decisions,
    version_scores,
)
from fraud_functions.outcomes import (
    drop_unexpected,
    read_message,
    reject_unknown_type,
    send_to_dead_letters,
)

log = logging.getLogger(__name__)

PENDING_TYPE = make_json_type("fraud.state/PendingTransaction")
DECIDED_TYPE = make_json_type("fraud.state/DecidedTransaction")


M = TypeVar("M", bound=JsonMessage)


def state_specs(ttl_seconds: int, decided_retention_seconds: int) -> list[ValueSpec]:
    """The transaction while it waits (TTL after the last write), and its decision once made."""
    return [
        ValueSpec(name="pending", type=PENDING_TYPE, expire_after_write=timedelta(seconds=ttl_seconds)),
        ValueSpec(name="decided", type=DECIDED_TYPE, expire_after_write=timedelta(seconds=decided_retention_seconds)),
    ]


@dataclass
class Pending:
    """A transaction waiting for its lookups and its score.

    Stored as JSON (`dump`) whose `transaction` is the record as it came from Kafka (`Transaction.to_record`,
    the id being the address), the shape checkpoints of every earlier version hold.
    """

    transaction: Transaction
    received_ms: int
    deadline_token: str = ""
    asked: list[str] = field(default_factory=list)
    answers: dict[str, dict[str, float]] = field(default_factory=dict)
    degraded: list[str] = field(default_factory=list)
    scoring: bool = False

    @classmethod
    def load(cls, transaction_id: str, value: dict[str, Any]) -> Pending:
        """Read stored state; fields this version does not know (from a newer one) are ignored."""
        known = {item.name for item in fields(cls)} - {"transaction"}
        return cls(
            transaction=Transaction.from_record(transaction_id, value["transaction"]),
            **{name: item for name, item in value.items() if name in known},
        )

    def dump(self) -> dict[str, Any]:
        """The JSON value to store; its lists and maps are copies, so later changes to this object do not leak in."""
        return {
            "transaction": self.transaction.to_record(),
            "received_ms": self.received_ms,
            "deadline_token": self.deadline_token,
            "asked": list(self.asked),
            "answers": {name: dict(values) for name, values in self.answers.items()},
            "degraded": list(self.degraded),
            "scoring": self.scoring,
        }

    def missing(self) -> list[str]:
        """The lookups that have not answered."""
        return [name for name in self.asked if name not in self.answers]


@dataclass(frozen=True)
class Verdict:
    """What the decision says beyond its outcome."""

    outcome: Outcome
    score: ModelScore | None = None
    threshold: float | None = None
    threshold_source: str | None = None
    reason: str | None = None
    challenger: ShadowScore | None = None


@declare(
    typename=TRANSACTION_MANAGER,
    summary="one transaction: asks every lookup, sends the model its values, decides (alert, no_alert, "
    "dead_letter, expired) and remembers the id",
    takes=(
        TRANSACTION_RECORD,
        LookupAnswer.TYPENAME,
        ModelScore.TYPENAME,
        DecisionDeadline.TYPENAME,
    ),
    answers=(LookupQuery.TYPENAME, ModelInput.TYPENAME),
    state=lambda settings: state_specs(settings.transaction_ttl_seconds, settings.decided_retention_seconds),
)
class TransactionManager:
    def __init__(
        self,
        resources: Resources,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        new_token: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        settings = resources.settings
        self._lookups = resources.lookups
        self._fallbacks = {lookup.name: dict(lookup.fallback(settings)) for _, lookup in self._lookups}
        self._threshold_lookup = next((lookup.name for _, lookup in self._lookups if lookup.threshold), None)
        self._deadline = timedelta(seconds=settings.decision_deadline_seconds)
        self._decisions_enabled = settings.decisions_enabled
        self._models: LiveModels = resources.models
        self._clock_ms = clock_ms
        self._new_token = new_token

    async def __call__(self, context: MessageContext, message: Message) -> None:
        if message.value_typename() == TRANSACTION_RECORD:
            self._on_transaction(context, message)
        elif message.is_type(LookupAnswer.STATEFUN_TYPE):
            self._on_answer(context, message)
        elif message.is_type(ModelScore.STATEFUN_TYPE):
            self._on_score(context, message)
        elif message.is_type(DecisionDeadline.STATEFUN_TYPE):
            self._on_deadline(context, message)
        else:
            reject_unknown_type(TRANSACTION_MANAGER, context, message)

    def on_failure(self, context: MessageContext, message: Message, error: ContractError) -> None:
        """After a bug (effects undone, message dead-lettered): a transaction record still gets its decision."""
        if message.value_typename() == TRANSACTION_RECORD and self._first_record(context):
            self._decide(context, None, Verdict(Outcome.DEAD_LETTER, reason=error.reason))

    # -- the transaction -----------------------------------------------------------------------
    def _on_transaction(self, context: MessageContext, message: Message) -> None:
        transaction_id = context.address.id
        try:
            _, transaction = parse_record(message.raw_value(), transaction_id, "transaction id", parse_transaction)
        except ContractError as error:
            send_to_dead_letters(TRANSACTION_MANAGER, context, message, error)
            if self._first_record(context):
                self._decide(context, None, Verdict(Outcome.DEAD_LETTER, reason=error.reason))
            return
        if not self._accepts_new_record(context):
            send_to_dead_letters(
                TRANSACTION_MANAGER,
                context,
                message,
                ContractError("duplicate_transaction_id", f"transaction {transaction_id} is {self._status(context)}"),
            )
            return
        pending = Pending(
            transaction=transaction,
            received_ms=self._clock_ms(),
            asked=[lookup.name for _, lookup in self._lookups],
        )
        query = LookupQuery(
            transaction_id, transaction.account, transaction.merchant, transaction.amount, transaction.timestamp
        )
        for typename, lookup in self._lookups:
            context.send(outgoing(typename, lookup.key(transaction), query))
        self._schedule_deadline(context, pending)
        TRANSACTIONS_STARTED.inc()
        log.debug("transaction received", extra={"transaction_id": transaction_id})

    def _schedule_deadline(self, context: MessageContext, pending: Pending) -> None:
        """Store the pending state with a fresh deadline (a token reused while pending would fail the job)."""
        pending.deadline_token = self._new_token()
        context.storage.pending = pending.dump()
        context.send_after(
            self._deadline,
            outgoing(TRANSACTION_MANAGER, context.address.id, DecisionDeadline(pending.deadline_token)),
            cancellation_token=pending.deadline_token,
        )

    @staticmethod
    def _first_record(context: MessageContext) -> bool:
        """No record of this id is in flight or decided."""
        return context.storage.pending is None and context.storage.decided is None

    @staticmethod
    def _accepts_new_record(context: MessageContext) -> bool:
        """Nothing in flight, and no decision other than `dead_letter` (a corrected record may be replayed)."""
        decided = context.storage.decided
        return context.storage.pending is None and (decided is None or decided.get("outcome") == Outcome.DEAD_LETTER)

    @staticmethod
    def _status(context: MessageContext) -> str:
        decided = context.storage.decided
        if context.storage.pending is not None or not isinstance(decided, dict):
            return "already in flight"
        return f"already decided ({decided.get('outcome')} at {decided.get('decided_at_ms')} ms)"

    # -- answers -------------------------------------------------------------------------------
    def _on_answer(self, context: MessageContext, message: Message) -> None:
        joined = self._reply_with_pending(context, message, LookupAnswer)
        if joined is None:
            return
        answer, pending = joined
        if answer.lookup not in pending.asked:
            drop_unexpected(TRANSACTION_MANAGER, context, "unasked_lookup", answer.lookup)
            return
        if answer.lookup in pending.answers:
            drop_unexpected(TRANSACTION_MANAGER, context, "duplicate_reply", answer.lookup)
            return
        pending.answers[answer.lookup] = dict(answer.values)
        if answer.degraded:
            pending.degraded.append(answer.lookup)
        if not pending.scoring and not pending.missing():
            self._request_score(context, pending)
        context.storage.pending = pending.dump()

    def _values(self, pending: Pending) -> dict[str, float]:
        """Every value by source, as the model gets them; a lookup that did not answer counts as its fallback."""
        values: dict[str, float] = {"transaction.amount": pending.transaction.amount}
        for name in pending.asked:
            for value, number in pending.answers.get(name, self._fallbacks.get(name, {})).items():
                values[f"{name}.{value}"] = number
        return values

    def _request_score(self, context: MessageContext, pending: Pending) -> None:
        """Send the model every value, by source."""
        values = self._values(pending)
        # The model is stateless; addressing it by transaction id spreads the load over all key groups.
        context.send(
            outgoing(MODEL, context.address.id, ModelInput(context.address.id, values, sorted(set(pending.degraded))))
        )
        pending.scoring = True

    def _on_score(self, context: MessageContext, message: Message) -> None:
        joined = self._reply_with_pending(context, message, ModelScore)
        if joined is None:
            return
        score, pending = joined
        if not pending.scoring:
            drop_unexpected(TRANSACTION_MANAGER, context, "premature_score", "score before the lookups")
            return
        threshold, source = self._threshold_for(pending, score)
        outcome = Outcome.ALERT if score.score >= threshold else Outcome.NO_ALERT
        challenger = None
        if score.challenger is not None:
            theirs = score.challenger
            # The account's own threshold holds for any model; otherwise the challenger's file decides its own.
            bar = threshold if source == "account" else theirs["threshold"]
            challenger = ShadowScore(
                theirs["model_version"], theirs["score"], bar, theirs["score"] >= bar, theirs["features"]
            )
        self._decide(context, pending, Verdict(outcome, score, threshold, source, challenger=challenger))

    def _threshold_for(self, pending: Pending, score: ModelScore) -> tuple[float, str]:
        """The account's own threshold (1..100 on the `thresholds` topic, so /100) when it has one, else the model's.

        A score from a version that did not send its threshold gets the champion file's (or the explicit override).
        """
        custom = pending.answers.get(self._threshold_lookup or "", {}).get("threshold")
        if custom is not None:
            return custom / 100.0, "account"
        return (score.threshold if score.threshold is not None else self._models.champion_threshold()), "model"

    def _on_deadline(self, context: MessageContext, message: Message) -> None:
        deadline = read_message(TRANSACTION_MANAGER, context, message, DecisionDeadline)
        if deadline is None:
            return
        value = context.storage.pending
        pending = Pending.load(context.address.id, value) if value is not None else None
        if pending is None or pending.deadline_token != deadline.token:
            drop_unexpected(TRANSACTION_MANAGER, context, "stale_deadline", "no pending transaction with this token")
            return
        if pending.scoring:
            self._decide(context, pending, Verdict(Outcome.EXPIRED, reason="deadline_passed: waiting for model_score"))
            return
        late = pending.missing()
        pending.degraded.extend(late)
        log.warning(
            "lookups did not answer by the deadline; scoring with their fallbacks",
            extra={"transaction_id": context.address.id, "lookups": late},
        )
        self._request_score(context, pending)
        self._schedule_deadline(context, pending)

    @staticmethod
    def _reply_with_pending(context: MessageContext, message: Message, kind: type[M]) -> tuple[M, Pending] | None:
        """A readable reply and the transaction it belongs to, or None (counted) for either missing."""
        reply = read_message(TRANSACTION_MANAGER, context, message, kind)
        if reply is None:
            return None
        value = context.storage.pending
        if value is None:
            # Decided already (expired, or a duplicate reply), or never existed: nothing to join with.
            drop_unexpected(TRANSACTION_MANAGER, context, "late_reply", kind.TYPENAME)
            return None
        return reply, Pending.load(context.address.id, value)

    # -- the decision --------------------------------------------------------------------------
    def _decide(self, context: MessageContext, pending: Pending | None, verdict: Verdict) -> None:
        """Record the one decision of this transaction: state, alert, `decisions` record, metrics."""
        now = self._clock_ms()
        degraded = sorted(set(pending.degraded)) if pending is not None else []
        score = verdict.score
        decision = Decision(
            transaction_id=context.address.id,
            outcome=verdict.outcome,
            decided_at_ms=now,
            transaction=pending.transaction if pending is not None else None,
            score=score.score if score else None,
            threshold=verdict.threshold,
            model_version=score.model_version if score else None,
            reasons=list(score.reasons) if score else [],
            degraded=degraded,
            reason=verdict.reason,
            latency_ms=max(0, now - pending.received_ms) if pending is not None else None,
            traceparent=current_traceparent(),
            threshold_source=verdict.threshold_source,
            features=dict(score.features) if score else {},
            inputs=self._values(pending) if score and pending is not None else {},
            challenger=verdict.challenger,
        )
        context.storage.decided = {"outcome": verdict.outcome.value, "decided_at_ms": now}
        if pending is not None:
            del context.storage.pending
            if pending.deadline_token:  # set before every store; the runtime fails the job on an empty one
                context.cancel_delayed_message(pending.deadline_token)
        if verdict.outcome is Outcome.ALERT and pending is not None:
            self._emit_alert(context, pending, decision)
        if self._decisions_enabled:
            context.send_egress(
                kafka_egress_message(
                    typename=DECISIONS_EGRESS,
                    topic=DECISIONS_TOPIC,
                    key=decision.transaction_id,
                    value=encode(decision.to_record()),
                )
            )
        DECISIONS.labels(verdict.outcome, "true" if degraded else "false").inc()
        if score is not None:
            count_by_version(score, verdict)
        if decision.latency_ms is not None:
            DECISION_LATENCY.observe(decision.latency_ms / 1000.0)
        if verdict.outcome in (Outcome.EXPIRED, Outcome.DEAD_LETTER):
            log.warning(
                "transaction decided without a score",
                extra={"transaction_id": decision.transaction_id, "outcome": verdict.outcome, "reason": verdict.reason},
            )

    def _emit_alert(self, context: MessageContext, pending: Pending, decision: Decision) -> None:
        transaction = pending.transaction
        alert = Alert(
            account=transaction.account,
            merchant=transaction.merchant,
            amount=transaction.amount,
            timestamp=transaction.timestamp,
            transaction_id=decision.transaction_id,
            score=decision.score or 0.0,
            threshold=decision.threshold or 0.0,
            model_version=decision.model_version or "",
            reasons=decision.reasons,
            degraded=decision.degraded,
            traceparent=decision.traceparent,
        )
        context.send_egress(
            kafka_egress_message(
                typename=ALERTS_EGRESS, topic=ALERTS_TOPIC, key=alert.account, value=encode(alert.to_record())
            )
        )
        log.info("alert emitted", extra={"transaction_id": decision.transaction_id, "score": decision.score})


def count_by_version(score: ModelScore, verdict: Verdict) -> None:
    """Each model's score, alert rate and, with a challenger, agreement, by version: what a promotion is judged on."""
    alerted = verdict.outcome is Outcome.ALERT
    version_scores(CHAMPION, score.model_version).observe(score.score)
    version_decisions(CHAMPION, score.model_version, "true" if alerted else "false").inc()
    shadow = verdict.challenger
    if shadow is None:
        return
    version_scores(CHALLENGER, shadow.model_version).observe(shadow.score)
    version_decisions(CHALLENGER, shadow.model_version, "true" if shadow.would_alert else "false").inc()
    agree = "true" if shadow.would_alert == alerted else "false"
    challenger_agreement(score.model_version, shadow.model_version, agree).inc()
