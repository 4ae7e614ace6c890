"""What a function does with input it cannot use: dead-letter it, or count and drop it.

Raising inside a remote function makes the runtime retry the batch until its
call budget runs out and then restart the job from the last checkpoint, where
the same record waits again: a restart loop. So bad input never raises. A bad
record from Kafka goes to the `dead-letters` egress with its reason (nothing is
lost, an operator can replay it); a late or duplicate internal reply is logged
and counted. `guarded` is the last line of defence against bugs.
"""

from __future__ import annotations

import logging
from typing import Awaitable, Callable, TypeVar

from statefun import Context, Message, kafka_egress_message

from fraud_common.contract import DEAD_LETTERS_TOPIC, ContractError, dead_letter, encode
from fraud_functions.addresses import DEAD_LETTERS_EGRESS, TRANSACTION_MANAGER
from fraud_functions.messages import JsonMessage, outgoing
from fraud_functions.metrics import DEAD_LETTERS, FUNCTION_ERRORS, MESSAGES, UNEXPECTED

log = logging.getLogger(__name__)

Handler = Callable[[Context, Message], Awaitable[None]]
M = TypeVar("M", bound=JsonMessage)


def log_context(function: str, context: Context) -> dict[str, str]:
    """Log fields naming the address; a transaction-manager id is the transaction id, logged as such."""
    fields = {"function": function, "address_id": context.address.id}
    if function == TRANSACTION_MANAGER:
        fields["transaction_id"] = context.address.id
    return fields


def source_of(context: Context, function: str) -> str:
    """Where a message came from: the caller function, or the ingress when there is none."""
    caller = context.caller
    return f"function:{caller.typename}" if caller is not None else f"ingress:{function}"


def send_to_dead_letters(
    context: Context,
    function: str,
    source: str,
    error: ContractError,
    payload: bytes | None,
) -> None:
    """Emit one dead-letter record (key = the address id) and count it."""
    key = context.address.id
    record = dead_letter(source=source, key=key, error=error, payload=payload, function=function)
    context.send_egress(
        kafka_egress_message(typename=DEAD_LETTERS_EGRESS, topic=DEAD_LETTERS_TOPIC, key=key, value=encode(record))
    )
    DEAD_LETTERS.labels(function, error.reason).inc()
    log.warning("dead-lettered a message",
                extra={**log_context(function, context), "reason": error.reason, "detail": error.detail})


def drop_unexpected(function: str, context: Context, reason: str, detail: str) -> None:
    """Count and log a message that needs no action (late reply, duplicate, unreadable internal message)."""
    UNEXPECTED.labels(function, reason).inc()
    log.info("dropped an unexpected message", extra={**log_context(function, context), "reason": reason, "detail": detail})


def read_message(function: str, context: Context, message: Message, kind: type[M]) -> M | None:
    """Decode an internal message, or count and drop it when it is unreadable."""
    try:
        return kind.read(message)
    except ContractError as error:
        drop_unexpected(function, context, error.reason, error.detail)
        return None


def read_request(function: str, context: Context, message: Message, kind: type[M]) -> M | None:
    """Decode a request that needs an answer: of the expected type (else dead-lettered), readable,
    and sent by a function we can reply to (else counted and dropped)."""
    if not message.is_type(kind.STATEFUN_TYPE):
        reject_unknown_type(function, context, message)
        return None
    request = read_message(function, context, message, kind)
    if request is not None and context.caller is None:
        drop_unexpected(function, context, "no_caller", f"{kind.TYPENAME} needs a caller to reply to")
        return None
    return request


def reply_to_caller(context: Context, reply: JsonMessage) -> None:
    caller = context.caller
    assert caller is not None, "read_request admits only requests with a caller"
    context.send(outgoing(caller.typename, caller.id, reply))


def reject_unknown_type(function: str, context: Context, message: Message) -> None:
    """A message type this function does not handle: dead-letter it so it is visible and replayable."""
    error = ContractError("unknown_message_type", f"{function} does not handle {message.value_typename()}")
    send_to_dead_letters(context, function, source_of(context, function), error, message.raw_value())


def guarded(function: str, handler: Handler) -> Handler:
    """Wrap a handler so that a bug dead-letters the message instead of failing the job.

    The SDK requires a plain two-argument coroutine function, which this returns.
    """

    async def invoke(context: Context, message: Message) -> None:
        MESSAGES.labels(function, message.value_typename()).inc()
        try:
            await handler(context, message)
        except Exception as err:  # noqa: BLE001 - the whole point: never let a bug fail the job
            FUNCTION_ERRORS.labels(function).inc()
            log.exception("function failed; dead-lettering the message", extra=log_context(function, context))
            send_to_dead_letters(
                context, function, source_of(context, function),
                ContractError("internal_error", f"{type(err).__name__}: {err}"), message.raw_value(),
            )

    return invoke
