"""The function of one key (fraud/account, fraud/merchant): every feature on the key answers in one invocation.

A transaction's `FeatureQuery` travels the keys in a chain (transaction-manager →
account → merchant → transaction-manager): each key's function asks every
feature on its key for its values, adds them to the query and sends it on to the
next key, and the last one sends transaction-manager `FeatureAnswers` with all of
them. Four requests per transaction with the transaction's own, whatever the
number of features, and no two answers racing to one address (ADR 0016).

A message other than the query (an ingress record, a feature's timer) goes to
the one feature that takes its type. Nothing here names a feature or a key: the
functions are derived from the declarations (fraud_functions.declarations).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple, Protocol

from statefun import Message

from fraud_common.contract import ContractError
from fraud_functions.addresses import TRANSACTION_MANAGER
from fraud_functions.message_context import MessageContext
from fraud_functions.messages import FeatureAnswers, FeatureQuery, outgoing
from fraud_functions.outcomes import reject_unknown_type, send_to_dead_letters

# A key's name → its function's type name and how a query names the key's address.
Route = Mapping[str, tuple[str, Callable[[FeatureQuery], str]]]


class Answered(NamedTuple):
    """A feature's values for one transaction; `degraded`: they are its fallback (its source could not answer)."""

    values: Mapping[str, float]
    degraded: bool = False


class FeatureHandler(Protocol):
    """A feature's code: it answers the query, and handles the other messages it takes (records, its timers)."""

    async def answer(self, context: MessageContext, query: FeatureQuery) -> Answered: ...

    async def __call__(self, context: MessageContext, message: Message) -> None: ...


class KeyFunction:
    """The handler of one key's function: the features' answers in one invocation, their other messages routed."""

    def __init__(
        self, typename: str, features: Sequence[tuple[str, Sequence[str], FeatureHandler]], keys: Route
    ) -> None:
        self._typename = typename
        self._features = [(name, handler) for name, _, handler in features]
        self._by_type = {kind: handler for _, takes, handler in features for kind in takes}
        self._keys = keys

    async def __call__(self, context: MessageContext, message: Message) -> None:
        if message.is_type(FeatureQuery.STATEFUN_TYPE):
            await self._on_query(context, message)
        elif (handler := self._by_type.get(message.value_typename())) is not None:
            await handler(context, message)
        else:
            reject_unknown_type(self._typename, context, message)

    async def _on_query(self, context: MessageContext, message: Message) -> None:
        """Every feature's values added to the query, then on to the next key, or back to transaction-manager.

        A query that cannot be read, or names a key that does not exist, is dead-lettered (its transaction
        decides at its deadline with every feature's fallback).
        """
        try:
            query = FeatureQuery.read(message)
            unknown = [name for name in query.route if name not in self._keys]
            if unknown:
                raise ContractError("malformed_message", f"{FeatureQuery.TYPENAME}: unknown key in route {unknown}")
        except ContractError as error:
            send_to_dead_letters(self._typename, context, message, error)
            return
        answers = dict(query.answers)
        degraded = list(query.degraded)
        for name, handler in self._features:
            answered = await handler.answer(context, query)
            answers[name] = dict(answered.values)
            if answered.degraded:
                degraded.append(name)
        if not query.route:
            reply = FeatureAnswers(query.transaction_id, answers, degraded)
            context.send(outgoing(TRANSACTION_MANAGER, query.transaction_id, reply))
            return
        following, *rest = query.route
        typename, address_of = self._keys[following]
        onward = FeatureQuery(
            query.transaction_id,
            query.account,
            query.merchant,
            query.amount,
            query.timestamp,
            rest,
            answers,
            degraded,
        )
        context.send(outgoing(typename, address_of(query), onward))
