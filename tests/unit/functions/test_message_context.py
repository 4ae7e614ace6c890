"""The per-message context behind the guard, through the real SDK handler: a failed message leaves nothing behind.

A toy function with two values and every kind of effect stands in for the real ones, so each kind
(state written, state deleted, state written twice, message, delayed message, cancellation, egress)
is shown undone on failure and kept on success, with and without other messages in the same batch.
"""

from __future__ import annotations

from datetime import timedelta

from statefun import (
    IntType,
    Message,
    RequestReplyHandler,
    StatefulFunctions,
    StringType,
    ValueSpec,
    kafka_egress_message,
    message_builder,
)

from fraud_dev.mini_runtime import Envelope, MiniRuntime
from fraud_functions.addresses import DEAD_LETTERS_EGRESS, DECISIONS_EGRESS
from fraud_functions.message_context import MessageContext
from fraud_functions.outcomes import guarded

TOY = "test/toy"
PEER = "test/peer"


async def toy(context: MessageContext, message: Message) -> None:
    """Does what the message's text says, in order: set, del, bump, send, later, cancel, egress, fail."""
    for step in (message.as_string() or "").split():
        if step == "set":
            context.storage.count = 7
        elif step == "bump":
            context.storage.count = (context.storage.count or 0) + 1
        elif step == "del":
            del context.storage.count
        elif step == "send":
            context.send(message_builder(target_typename=PEER, target_id="p", str_value="hello"))
        elif step == "later":
            context.send_after(
                timedelta(seconds=1),
                message_builder(target_typename=TOY, target_id="t", str_value="set"),
                cancellation_token="token-1",
            )
        elif step == "cancel":
            context.cancel_delayed_message("token-1")
        elif step == "egress":
            context.send_egress(kafka_egress_message(typename=DECISIONS_EGRESS, topic="t", key="k", value=b"{}"))
        elif step == "fail":
            raise RuntimeError("a bug")


def toy_runtime() -> MiniRuntime:
    functions = StatefulFunctions()
    functions.register(TOY, guarded(TOY, toy), [ValueSpec(name="count", type=IntType)])
    return MiniRuntime(RequestReplyHandler(functions))


def text(steps: str) -> Envelope:
    return Envelope(TOY, "t", StringType.typename, StringType.serializer().serialize(steps))


def count(runtime: MiniRuntime) -> int | None:
    value = runtime.value_of(TOY, "t", "count")
    return None if value is None else IntType.serializer().deserialize(value.value)


def kept_egress(runtime: MiniRuntime) -> list[str]:
    return [record.egress for record in runtime.egress if record.egress != DEAD_LETTERS_EGRESS]


async def test_a_failed_message_leaves_no_effect_of_any_kind():
    runtime = toy_runtime()
    await runtime.invoke([text("set later")])
    sent = await runtime.invoke([text("bump bump del send later cancel egress fail")])
    assert sent == []
    assert count(runtime) == 7, "the state as it was before the message: two writes and a delete undone"
    assert [delayed.cancellation_token for delayed in runtime.delayed] == ["token-1"], "neither sent nor cancelled"
    assert kept_egress(runtime) == []
    letters = [record.json() for record in runtime.egress if record.egress == DEAD_LETTERS_EGRESS]
    assert [(letter["reason"], letter["function"]) for letter in letters] == [("internal_error", TOY)]


async def test_a_value_the_failed_message_created_is_deleted_again():
    runtime = toy_runtime()
    await runtime.invoke([text("set fail")])
    assert count(runtime) is None


async def test_a_successful_message_keeps_every_effect_in_order():
    runtime = toy_runtime()
    sent = await runtime.invoke([text("set bump send later egress")])
    assert count(runtime) == 8
    assert [(message.target, message.id) for message in sent] == [(PEER, "p")]
    assert [delayed.cancellation_token for delayed in runtime.delayed] == ["token-1"]
    assert kept_egress(runtime) == [DECISIONS_EGRESS]
    await runtime.invoke([text("cancel")])
    assert runtime.delayed == []


async def test_in_one_batch_a_failure_undoes_only_its_own_message():
    runtime = toy_runtime()
    sent = await runtime.invoke([text("set send"), text("bump send egress fail"), text("bump egress")])
    assert count(runtime) == 8, "the first message's 7, the third's bump; not the second's"
    assert len(sent) == 1 and kept_egress(runtime) == [DECISIONS_EGRESS]
