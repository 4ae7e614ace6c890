"""Each function declared once, next to its code: the single list of what the function server serves.

In the spirit of the SDK's `@functions.bind(typename, specs)`, a function's
module says everything about it in one `@declare(...)`: its type name, the
message types it takes and answers, its state, the Kafka topic it reads (if
any), how to build it, and, for a lookup, what transaction-manager asks it for
every transaction. The server, the wiring, the module-spec contract test and
the docs' function table all read `declared()`; nothing else lists functions.

Adding a feature is a new module under `fraud_functions/functions/` with its
declaration (found by `declared()`), and a model file whose features use its
values (docs/architecture.md, "Adding a feature").
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from statefun import ValueSpec

from fraud_common.contract import TOPICS, Topic, Transaction
from fraud_functions.live_models import LiveModels
from fraud_functions.merchant_service_client import MerchantScores
from fraud_functions.message_context import Handler
from fraud_functions.settings import FunctionSettings


@dataclass(frozen=True)
class Lookup:
    """What transaction-manager asks a lookup function for every transaction, and what it gets back.

    `key` picks the address to ask (the account, the merchant); `provides` names
    the values it answers (a model feature reads one as "<name>.<value>");
    `fallback` gives what the values count as when the answer does not come by
    the decision deadline (the decision then says the lookup was degraded).
    `threshold` marks the lookup whose answer sets the alert threshold.
    """

    name: str
    key: Callable[[Transaction], str]
    provides: tuple[str, ...]
    fallback: Callable[[FunctionSettings], Mapping[str, float]]
    threshold: bool = False

    def sources(self) -> tuple[str, ...]:
        return tuple(f"{self.name}.{value}" for value in self.provides)


@dataclass(frozen=True)
class Declared:
    """One remote function: everything the server, the runtime's module spec and the docs need to know."""

    typename: str
    summary: str
    takes: tuple[str, ...]
    answers: tuple[str, ...]
    state: Callable[[FunctionSettings], list[ValueSpec]]
    factory: Callable[[Resources], Handler]
    lookup: Lookup | None = None

    def topics(self) -> tuple[Topic, ...]:
        """The Kafka topics whose records the runtime's ingresses hand this function (fraud_common.contract)."""
        return tuple(topic for topic in TOPICS if topic.ingress is not None and topic.ingress.target == self.typename)


@dataclass(frozen=True)
class Resources:
    """What a function's factory may use: the settings, the merchant-service client, the models, the lookups."""

    settings: FunctionSettings
    merchant_client: MerchantScores
    models: LiveModels
    lookups: tuple[tuple[str, Lookup], ...] = field(default=())  # (typename, lookup) of every lookup function


_DECLARED: dict[str, Declared] = {}


class FunctionClass(Protocol):
    """A declared class: built with the resources, its instances handle messages."""

    def __call__(self, resources: Resources) -> Handler: ...


C = TypeVar("C", bound=FunctionClass)


def declare(
    *,
    typename: str,
    summary: str,
    takes: Sequence[str],
    answers: Sequence[str] = (),
    state: Callable[[FunctionSettings], list[ValueSpec]] = lambda settings: [],
    lookup: Lookup | None = None,
) -> Callable[[C], C]:
    """Class decorator: the class is the function's handler, built as `cls(resources)`."""

    def register(cls: C) -> C:
        if typename in _DECLARED and _DECLARED[typename].factory is not cls:
            raise ValueError(f"{typename} is declared twice")
        _DECLARED[typename] = Declared(typename, summary, tuple(takes), tuple(answers), state, cls, lookup)
        return cls

    return register


@functools.cache
def declared() -> tuple[Declared, ...]:
    """Every function, in type-name order, after importing every module of `fraud_functions.functions` (once);
    checked against the topics, so that every ingress has a function that takes its records."""
    from fraud_functions import functions

    for module in pkgutil.iter_modules(functions.__path__):
        importlib.import_module(f"{functions.__name__}.{module.name}")
    everything = tuple(_DECLARED[name] for name in sorted(_DECLARED))
    check_ingresses(TOPICS, everything)
    return everything


def check_ingresses(topics: Sequence[Topic], functions: Sequence[Declared]) -> None:
    """Each topic's ingress targets a declared function that takes the topic's record type."""
    by_name = {item.typename: item for item in functions}
    for topic in topics:
        if topic.ingress is None:
            continue
        target = by_name.get(topic.ingress.target)
        if target is None:
            raise ValueError(f"topic {topic.name} targets {topic.ingress.target}, which no function declares")
        if topic.ingress.record_type not in target.takes:
            raise ValueError(
                f"topic {topic.name} hands {target.typename} {topic.ingress.record_type}, which it does not take"
            )


@functools.cache
def typenames() -> tuple[str, ...]:
    return tuple(item.typename for item in declared())


@functools.cache
def ingress_topics() -> dict[str, str]:
    """Record type → the Kafka topic such records come from."""
    return {topic.ingress.record_type: topic.name for topic in TOPICS if topic.ingress is not None}


@functools.cache
def lookups() -> tuple[tuple[str, Lookup], ...]:
    """(typename, lookup) of every declared lookup function, in type-name order."""
    return tuple((item.typename, item.lookup) for item in declared() if item.lookup is not None)
