"""Each function and each feature declared once, next to its code: the single list of what the server serves.

In the spirit of the SDK's `@functions.bind(typename, specs)`, a function's
module says everything about it in one `@declare(...)`: its type name, the
message types it takes and answers, its state, how to build it. A feature
(fraud count, velocity, the account's threshold, the merchant's risk score)
says the same in one `@feature(...)`: its name, the key it is kept by, its
state, the values it provides, its fallback, the messages it handles besides
the query. The features that share a key are served by one function derived
from their declarations (`fraud/account`, `fraud/merchant`: see
fraud_functions.keys), so a transaction costs one round trip per key, not one
per feature (ADR 0016). The server, the wiring, the module-spec contract test
and the docs' function table all read `declared()`; nothing else lists
functions or features.

Adding a feature is a new module under `fraud_functions/functions/` with its
declaration (found by `declared()`), and a model file whose features use its
values (docs/architecture.md, "Adding a feature").
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from statefun import ValueSpec

from fraud_common.contract import NAMESPACE, TOPICS, Topic
from fraud_functions.keys import FeatureHandler, KeyFunction
from fraud_functions.live_models import LiveModels
from fraud_functions.merchant_service_client import MerchantScores
from fraud_functions.message_context import Handler
from fraud_functions.messages import FeatureAnswers, FeatureQuery
from fraud_functions.settings import FunctionSettings


class Parties(Protocol):
    """What names a transaction's keys: a Transaction or the FeatureQuery that carries it."""

    @property
    def account(self) -> str: ...
    @property
    def merchant(self) -> str: ...


@dataclass(frozen=True)
class Key:
    """What features are kept by: one function type serves every feature on it, one address per key value."""

    name: str
    of: Callable[[Parties], str]

    @property
    def typename(self) -> str:
        return f"{NAMESPACE}/{self.name}"


ACCOUNT = Key("account", lambda parties: parties.account)
MERCHANT = Key("merchant", lambda parties: parties.merchant)
# The order a transaction's query travels the keys: the account's state first, merchant-service (which may
# be slow, and which the merchant's cache hides) last, so a slow merchant never holds the account back.
KEYS = (ACCOUNT, MERCHANT)


@dataclass(frozen=True)
class Feature:
    """One feature: what transaction-manager gets for every transaction from the function of its key.

    `provides` names the values it answers (a model feature reads one as "<name>.<value>"); `fallback`
    gives what they count as when the answer does not come by the decision deadline (the decision then
    says the feature was degraded). `takes` are the message types it handles besides the query (its
    ingress records, its own timers); `threshold` marks the feature whose answer sets the alert threshold.
    Its state names must be unique among the features of its key: they share one function's state.
    """

    name: str
    key: Key
    summary: str
    provides: tuple[str, ...]
    fallback: Callable[[FunctionSettings], Mapping[str, float]]
    takes: tuple[str, ...]
    state: Callable[[FunctionSettings], list[ValueSpec]]
    factory: Callable[[Resources], FeatureHandler]
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

    def topics(self) -> tuple[Topic, ...]:
        """The Kafka topics whose records the runtime's ingresses hand this function (fraud_common.contract)."""
        return tuple(topic for topic in TOPICS if topic.ingress is not None and topic.ingress.target == self.typename)


@dataclass(frozen=True)
class Resources:
    """What a function's or feature's factory may use: the settings, the merchant-service client, the models."""

    settings: FunctionSettings
    merchant_client: MerchantScores
    models: LiveModels


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
) -> Callable[[C], C]:
    """Class decorator: the class is the function's handler, built as `cls(resources)`."""

    def register(cls: C) -> C:
        if typename in _DECLARED and _DECLARED[typename].factory is not cls:
            raise ValueError(f"{typename} is declared twice")
        _DECLARED[typename] = Declared(typename, summary, tuple(takes), tuple(answers), state, cls)
        return cls

    return register


_FEATURES: dict[str, Feature] = {}


class FeatureClass(Protocol):
    """A declared feature class: built with the resources, its instances answer queries and handle messages."""

    def __call__(self, resources: Resources) -> FeatureHandler: ...


F = TypeVar("F", bound=FeatureClass)


def feature(
    *,
    name: str,
    key: Key,
    summary: str,
    provides: Sequence[str],
    fallback: Callable[[FunctionSettings], Mapping[str, float]],
    takes: Sequence[str] = (),
    state: Callable[[FunctionSettings], list[ValueSpec]] = lambda settings: [],
    threshold: bool = False,
) -> Callable[[F], F]:
    """Class decorator: the class is the feature's handler, built as `cls(resources)`."""

    def register(cls: F) -> F:
        if name in _FEATURES and _FEATURES[name].factory is not cls:
            raise ValueError(f"feature {name} is declared twice")
        _FEATURES[name] = Feature(name, key, summary, tuple(provides), fallback, tuple(takes), state, cls, threshold)
        return cls

    return register


def _import_all() -> None:
    """Import every module of `fraud_functions.functions`: their decorators fill the registries."""
    from fraud_functions import functions

    for module in pkgutil.iter_modules(functions.__path__):
        importlib.import_module(f"{functions.__name__}.{module.name}")


@functools.cache
def features() -> tuple[Feature, ...]:
    """Every declared feature, in name order."""
    _import_all()
    return tuple(_FEATURES[name] for name in sorted(_FEATURES))


@functools.cache
def declared() -> tuple[Declared, ...]:
    """Every function, in type-name order: the declared ones and one per key, derived from its features (once);
    checked against the topics, so that every ingress has a function that takes its records."""
    _import_all()
    everything = tuple(sorted((*_DECLARED.values(), *key_functions(features())), key=lambda item: item.typename))
    names = [item.typename for item in everything]
    if len(names) != len(set(names)):
        raise ValueError(f"a key's function has the type name of a declared function: {sorted(names)}")
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
def keys() -> tuple[Key, ...]:
    """The keys some feature is kept by, in the order a query travels them."""
    used = {item.key.name for item in features()}
    return tuple(key for key in KEYS if key.name in used)


def key_functions(features: Sequence[Feature]) -> list[Declared]:
    """One function per key that has features (fraud_functions.keys runs it); refused: a key not in KEYS, or
    features of one key that share a state name or a message type (they share one function)."""
    by_key: dict[str, list[Feature]] = {}
    for item in features:
        if item.key not in KEYS:
            raise ValueError(f"feature {item.name} is kept by {item.key.name}, which is not in KEYS")
        by_key.setdefault(item.key.name, []).append(item)
    return [_derive(key, by_key[key.name]) for key in KEYS if key.name in by_key]


def _derive(key: Key, features: list[Feature]) -> Declared:
    takes = [typename for item in features for typename in item.takes]
    if len(takes) != len(set(takes)):
        raise ValueError(f"two features of {key.typename} take the same message type: {sorted(takes)}")

    def state(settings: FunctionSettings) -> list[ValueSpec]:
        specs = [spec for item in features for spec in item.state(settings)]
        names = [spec.name for spec in specs]
        if len(names) != len(set(names)):
            raise ValueError(f"two features of {key.typename} keep state of the same name: {sorted(names)}")
        return specs

    def build(resources: Resources) -> Handler:
        handlers = [(item.name, item.takes, item.factory(resources)) for item in features]
        return KeyFunction(key.typename, handlers, {item.name: (item.typename, item.of) for item in KEYS})

    return Declared(
        typename=key.typename,
        summary=f"the {key.name}'s features, one query for all of them: "
        + "; ".join(f"{item.name}: {item.summary}" for item in features),
        takes=(FeatureQuery.TYPENAME, *takes),
        answers=(FeatureQuery.TYPENAME, FeatureAnswers.TYPENAME),
        state=state,
        factory=build,
    )
