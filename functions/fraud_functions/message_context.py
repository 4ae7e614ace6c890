"""The context a handler sees for one message: the SDK's context, with that message's effects its own.

The SDK runs a batch of messages for one address over one shared context and sends whatever that
context holds at the end, so a message that fails half-way would leave half its effects behind (a
query sent without the state that expects its answer, a delayed message without its owner). The
guard (fraud_functions.outcomes) gives every message a MessageContext of its own instead:

- messages, delayed messages, cancellations and egress records are held here and handed to the
  SDK's context by `commit`, once the handler has returned; a failed message's are dropped;
- state writes go to the SDK's storage at once (so reads, serialization and its errors behave
  exactly as the SDK's do), and the value each name had before the message's first write is kept,
  so `undo` can put it back.

Only the SDK's public API is used: attribute access on its storage, and its context's `send`,
`send_after`, `cancel_delayed_message` and `send_egress`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from statefun import Context, EgressMessage, Message, SdkAddress


class MessageStorage:
    """The address's state, read and written through the SDK's storage, with an undo log per message.

    Attributes are the function's ValueSpec names, as on the SDK's storage: reading an absent value
    gives None, assigning None is refused (delete instead), and an undeclared name is an AttributeError.
    """

    __slots__ = ("_before", "_sdk")

    def __init__(self, sdk_storage: Any) -> None:
        object.__setattr__(self, "_sdk", sdk_storage)
        object.__setattr__(self, "_before", {})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sdk, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._remember(name)
        setattr(self._sdk, name, value)

    def __delattr__(self, name: str) -> None:
        self._remember(name)
        delattr(self._sdk, name)

    def _remember(self, name: str) -> None:
        """Keep the value `name` had before this message first wrote it (None: it had none)."""
        if name not in self._before:
            self._before[name] = getattr(self._sdk, name)

    def undo(self) -> None:
        """Every value this message wrote back as it was before the message."""
        for name, value in self._before.items():
            if value is None:
                delattr(self._sdk, name)
            else:
                setattr(self._sdk, name, value)
        self._before.clear()


class MessageContext:
    """The SDK's context for one message: the same operations, its outgoing effects held until `commit`."""

    __slots__ = ("_pending", "_sdk", "storage")

    def __init__(self, sdk_context: Context) -> None:
        self._sdk = sdk_context
        self.storage = MessageStorage(sdk_context.storage)
        self._pending: list[Callable[[Context], None]] = []

    @property
    def address(self) -> SdkAddress:
        """This function's address (typename, id)."""
        return self._sdk.address

    @property
    def caller(self) -> SdkAddress | None:
        """The function that sent the message, None for a record from an ingress or a delayed message to itself."""
        return self._sdk.caller

    def send(self, message: Message) -> None:
        self._pending.append(lambda sdk: sdk.send(message))

    def send_after(self, duration: timedelta, message: Message, cancellation_token: str = "") -> None:
        self._pending.append(lambda sdk: sdk.send_after(duration, message, cancellation_token))

    def cancel_delayed_message(self, cancellation_token: str) -> None:
        self._pending.append(lambda sdk: sdk.cancel_delayed_message(cancellation_token))

    def send_egress(self, message: EgressMessage) -> None:
        self._pending.append(lambda sdk: sdk.send_egress(message))

    def commit(self) -> None:
        """Hand the held effects to the SDK's context, in the order they were made; the state is written already."""
        for effect in self._pending:
            effect(self._sdk)
        self._pending.clear()

    def undo(self) -> None:
        """Drop the held effects and put the state back as it was before the message."""
        self._pending.clear()
        self.storage.undo()


# What a function implements: it handles one message on the message's own context.
Handler = Callable[[MessageContext, Message], Awaitable[None]]
