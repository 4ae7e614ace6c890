"""Builds the four functions with their dependencies and registers them with the SDK.

This is the one place that says which function type has which state and
accepts which ingress record type; the module-spec contract test reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

from statefun import StatefulFunctions, ValueSpec

from fraud_functions import fraud_count, merchant, transaction_manager
from fraud_functions.addresses import FRAUD_COUNT, MERCHANT, MODEL, TRANSACTION_MANAGER
from fraud_functions.fraud_count import FraudCounter
from fraud_functions.merchant import MerchantScorer
from fraud_functions.merchant_client import MerchantScoreClient
from fraud_functions.messages import CONFIRM_FRAUD_RECORD, TRANSACTION_RECORD
from fraud_functions.model import Model
from fraud_functions.model_function import ModelScorer
from fraud_functions.outcomes import guarded
from fraud_functions.settings import FunctionSettings
from fraud_functions.transaction_manager import TransactionManager

# Which raw Kafka record type each function accepts from an ingress.
INGRESS_RECORD_TYPES = {
    TRANSACTION_MANAGER: TRANSACTION_RECORD,
    FRAUD_COUNT: CONFIRM_FRAUD_RECORD,
}


@dataclass(frozen=True)
class Wiring:
    functions: StatefulFunctions
    specs: dict[str, list[ValueSpec]]


def merchant_client(settings: FunctionSettings) -> MerchantScoreClient:
    return MerchantScoreClient(
        base_url=settings.merchant_service_url,
        timeout_seconds=settings.merchant_timeout_seconds,
        max_attempts=settings.merchant_max_attempts,
        backoff_seconds=settings.merchant_backoff_seconds,
        backoff_max_seconds=settings.merchant_backoff_max_seconds,
    )


def wire(settings: FunctionSettings, client: MerchantScoreClient, model: Model) -> Wiring:
    """Register every function, each behind the guard that turns bugs into dead letters."""
    manager = TransactionManager(
        alert_threshold=settings.alert_threshold,
        decision_deadline_seconds=settings.decision_deadline_seconds,
        decisions_enabled=settings.decisions_enabled,
    )
    handlers = {
        TRANSACTION_MANAGER: manager,
        FRAUD_COUNT: FraudCounter(window_seconds=settings.fraud_window_seconds),
        MERCHANT: MerchantScorer(
            client,
            cache_ttl_seconds=settings.merchant_cache_ttl_seconds,
            degraded_ttl_seconds=settings.merchant_degraded_ttl_seconds,
            fallback_score=settings.merchant_fallback_score,
        ),
        MODEL: ModelScorer(model),
    }
    specs = {
        TRANSACTION_MANAGER: transaction_manager.state_specs(settings.transaction_ttl_seconds,
                                                             settings.decided_retention_seconds),
        FRAUD_COUNT: fraud_count.state_specs(),
        MERCHANT: merchant.state_specs(settings.merchant_cache_ttl_seconds),
        MODEL: [],
    }
    failure_hooks = {TRANSACTION_MANAGER: manager.on_failure}
    functions = StatefulFunctions()
    for typename, handler in handlers.items():
        functions.register(typename, guarded(typename, handler, failure_hooks.get(typename)), specs[typename])
    return Wiring(functions=functions, specs=specs)
