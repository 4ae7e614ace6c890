"""What a function does with input it cannot use: dead-letter it, or count and drop it.

Raising inside a remote function makes the runtime retry the batch until its
call budget runs out and then restart the job from the last checkpoint, where
the same record waits again: a restart loop. So bad input never raises. A bad
record from Kafka goes to the `dead-letters` egress with its reason, its
position and its original bytes (nothing is lost, an operator can replay it);
a late or duplicate internal reply is logged and counted. `guarded` is the
last line of defence against bugs: it undoes the failed message's effects and
dead-letters it.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from opentelemetry import trace
from statefun import Context, Message, kafka_egress_message

from fraud_common import tracing
from fraud_common.contract import (
    DEAD_LETTERS_TOPIC,
    TOPICS,
    ContractError,
    DeadLetterOrigin,
    dead_letter,
    encode,
)
from fraud_common.envelope import dead_letter_origin, read_envelope
from fraud_functions.addresses import DEAD_LETTERS_EGRESS, TRANSACTION_MANAGER
from fraud_functions.message_context import Handler, MessageContext
from fraud_functions.messages import JsonMessage
from fraud_functions.metrics import DEAD_LETTERS, FUNCTION_ERRORS, UNEXPECTED, messages

log = logging.getLogger(__name__)
TRACER = tracing.tracer("fraud_functions")

SdkHandler = Callable[[Context, Message], Awaitable[None]]  # what the SDK calls
FailureHook = Callable[[MessageContext, Message, ContractError], None]
M = TypeVar("M", bound=JsonMessage)


def log_context(function: str, context: MessageContext) -> dict[str, str]:
    """Log fields naming the address; a transaction-manager id is the transaction id, logged as such."""
    fields = {"function": function, "address_id": context.address.id}
    if function == TRANSACTION_MANAGER:
        fields["transaction_id"] = context.address.id
    return fields


@functools.cache
def ingress_topics() -> dict[str, str]:
    """Record type → the Kafka topic such records come from."""
    return {topic.ingress.record_type: topic.name for topic in TOPICS if topic.ingress is not None}


def origin_of(context: MessageContext, message: Message) -> DeadLetterOrigin:
    """Where a message came from: a Kafka record (position and original bytes) or another function."""
    raw = message.raw_value()
    topic = ingress_topics().get(message.value_typename())  # ingress records arrive in envelopes
    if topic is not None and context.caller is None:
        try:
            return dead_letter_origin(read_envelope(raw), context.address.id, f"kafka:{topic}")
        except ContractError:
            pass  # a broken envelope: keep the bytes as they are
        return DeadLetterOrigin(source=f"kafka:{topic}", key=context.address.id.encode("utf-8"), value=raw)
    caller = context.caller
    source = f"function:{caller.typename}" if caller is not None else "unknown"
    return DeadLetterOrigin(source=source, key=context.address.id.encode("utf-8"), value=raw)


def send_to_dead_letters(function: str, context: MessageContext, message: Message, error: ContractError) -> None:
    """Emit one dead-letter record (key = the address id) and count it."""
    key = context.address.id
    record = dead_letter(origin_of(context, message), error, function, key)
    context.send_egress(
        kafka_egress_message(typename=DEAD_LETTERS_EGRESS, topic=DEAD_LETTERS_TOPIC, key=key, value=encode(record))
    )
    DEAD_LETTERS.labels(function, error.reason).inc()
    log.warning(
        "dead-lettered a message",
        extra={**log_context(function, context), "reason": error.reason, "detail": error.detail},
    )


def drop_unexpected(function: str, context: MessageContext, reason: str, detail: str) -> None:
    """Count and log a message that needs no action (late reply, duplicate, unreadable internal message)."""
    UNEXPECTED.labels(function, reason).inc()
    log.info(
        "dropped an unexpected message", extra={**log_context(function, context), "reason": reason, "detail": detail}
    )


def read_message(function: str, context: MessageContext, message: Message, kind: type[M]) -> M | None:
    """Decode an internal message, or count and drop it when it is unreadable."""
    try:
        return kind.read(message)
    except ContractError as error:
        drop_unexpected(function, context, error.reason, error.detail)
        return None


def reject_unknown_type(function: str, context: MessageContext, message: Message) -> None:
    """A message type this function does not handle: dead-letter it so it is visible and replayable."""
    error = ContractError("unknown_message_type", f"{function} does not handle {message.value_typename()}")
    send_to_dead_letters(function, context, message, error)


def guarded(function: str, handler: Handler, on_failure: FailureHook | None = None) -> SdkHandler:
    """Run a handler on a MessageContext of its own, so that a bug undoes the message's effects and dead-letters
    it instead of failing the job.

    `on_failure` lets a function record what the failure means for it (after
    the undo), for example a decision for a transaction that would otherwise
    have none. The SDK requires a plain two-argument coroutine function, which
    this returns.
    """

    async def run(sdk_context: Context, message: Message) -> None:
        context = MessageContext(sdk_context)
        try:
            await handler(context, message)
        except Exception as err:  # noqa: BLE001 - the whole point: never let a bug fail the job
            context.undo()
            handle_failure(function, sdk_context, message, err, on_failure)
        else:
            context.commit()

    async def invoke(context: Context, message: Message) -> None:
        messages(function, message.value_typename()).inc()
        if not tracing.enabled():
            await run(context, message)
            return
        raw = message.raw_value()
        traceparent = tracing.traceparent_in(raw)
        if tracing.unsampled(traceparent):
            with tracing.forwarding(traceparent):
                await run(context, message)
            return
        with TRACER.start_as_current_span(
            f"invoke {function}", context=tracing.context_of(traceparent), kind=trace.SpanKind.SERVER
        ) as span:
            if span.is_recording():  # an unsampled root: no attributes to work out
                span.set_attributes(span_attributes(function, context, message, raw))
            await run(context, message)

    return invoke


def handle_failure(
    function: str, sdk_context: Context, message: Message, err: Exception, on_failure: FailureHook | None
) -> None:
    """After a failed message's effects are undone: count, log and dead-letter it, then run the function's hook."""
    trace.get_current_span().record_exception(err)
    FUNCTION_ERRORS.labels(function).inc()
    letter = MessageContext(sdk_context)
    log.error(
        "function failed; its effects are undone and the message dead-lettered",
        exc_info=err,
        extra=log_context(function, letter),
    )
    error = ContractError("internal_error", f"{type(err).__name__}: {err}")
    send_to_dead_letters(function, letter, message, error)
    letter.commit()
    if on_failure is None:
        return
    hook = MessageContext(sdk_context)
    try:
        on_failure(hook, message, error)
    except Exception:  # a failing hook must not fail the job either
        hook.undo()
        log.exception("the failure hook failed too; its effects are undone", extra=log_context(function, hook))
    else:
        hook.commit()


_TRANSACTION_ID = re.compile(rb'"transaction_id":\s*"([^"\\]{1,128})"')


def span_attributes(function: str, context: Context, message: Message, raw: bytes | None) -> dict[str, str]:
    """What a function invocation's span says: the function, the message type, the transaction."""
    attributes = {
        "statefun.function": function,
        "statefun.message_type": message.value_typename(),
        "statefun.address_id": context.address.id,
    }
    if function == TRANSACTION_MANAGER:
        attributes["transaction.id"] = context.address.id
    elif raw and (found := _TRANSACTION_ID.search(raw)):
        attributes["transaction.id"] = found.group(1).decode("utf-8", errors="replace")
    return attributes
