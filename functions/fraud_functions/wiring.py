"""Builds every declared function with its resources and registers it with the SDK, behind the guard.

Reads fraud_functions.declarations: which functions exist, their state and how
to build them. A model (champion or challenger) that needs a value no lookup
provides fails here, at start.
"""

from __future__ import annotations

from dataclasses import dataclass

from statefun import StatefulFunctions, ValueSpec

from fraud_functions.declarations import Resources, declared, lookups
from fraud_functions.live_models import LiveModels
from fraud_functions.merchant_service_client import MerchantScores, MerchantServiceClient
from fraud_functions.outcomes import guarded
from fraud_functions.scoring import Model
from fraud_functions.settings import FunctionSettings


@dataclass(frozen=True)
class Wiring:
    functions: StatefulFunctions
    specs: dict[str, list[ValueSpec]]


def merchant_service_client(settings: FunctionSettings) -> MerchantServiceClient:
    return MerchantServiceClient(
        base_url=settings.merchant_service_url,
        timeout_seconds=settings.merchant_timeout_seconds,
        max_attempts=settings.merchant_max_attempts,
        backoff_seconds=settings.merchant_backoff_seconds,
        backoff_max_seconds=settings.merchant_backoff_max_seconds,
    )


def provided_sources() -> tuple[str, ...]:
    """Every value a declared lookup answers, as a model file's `source` names it."""
    return tuple(source for _, lookup in lookups() for source in lookup.sources())


def wire(settings: FunctionSettings, client: MerchantScores, models: LiveModels | Model) -> Wiring:
    """Register every declared function, each behind the guard that turns bugs into dead letters.

    A bare Model is a fixed champion without a challenger (tests, benchmarks); the server passes LiveModels.
    """
    if not isinstance(models, LiveModels):
        models = LiveModels.fixed(models, settings.alert_threshold)
    models.check(provided_sources())
    resources = Resources(settings=settings, merchant_client=client, models=models, lookups=lookups())
    functions = StatefulFunctions()
    specs: dict[str, list[ValueSpec]] = {}
    for item in declared():
        handler = item.factory(resources)
        specs[item.typename] = item.state(settings)
        functions.register(
            item.typename, guarded(item.typename, handler, getattr(handler, "on_failure", None)), specs[item.typename]
        )
    return Wiring(functions=functions, specs=specs)
