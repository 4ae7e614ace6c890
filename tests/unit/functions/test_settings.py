"""Function settings come from the environment, with defaults and clear errors."""

from __future__ import annotations

import pytest

from fraud_common.settings import SettingsError
from fraud_functions.settings import DEFAULT_MODEL_PATH, FunctionSettings


def test_defaults_suit_the_local_stack():
    settings = FunctionSettings.from_env({})
    assert (settings.port, settings.merchant_service_url) == (8000, "http://127.0.0.1:8090")
    assert (settings.merchant_max_attempts, settings.merchant_cache_ttl_seconds) == (3, 3600)
    assert (settings.fraud_window_seconds, settings.alert_threshold) == (1800, None)  # None: the model file decides
    assert settings.model_path == DEFAULT_MODEL_PATH and settings.model_strategy == "model-file"


def test_values_are_read_from_the_environment():
    settings = FunctionSettings.from_env(
        {
            "FUNCTIONS_PORT": "9000",
            "MERCHANT_SERVICE_URL": "http://merchant:80/",
            "FRAUD_WINDOW_SECONDS": "5",
            "ALERT_THRESHOLD": "0.5",
            "MODEL_STRATEGY": "random",
            "MODEL_PATH": "/models/m.json",
        }
    )
    assert settings.port == 9000 and settings.merchant_service_url == "http://merchant:80"
    assert settings.fraud_window_seconds == 5 and settings.alert_threshold == 0.5
    assert settings.model_strategy == "random" and str(settings.model_path) == "/models/m.json"


@pytest.mark.parametrize(
    "name, value",
    [
        ("FUNCTIONS_PORT", "eighty"),
        ("FUNCTIONS_PORT", "70000"),
        ("ALERT_THRESHOLD", "1.5"),
        ("MERCHANT_MAX_ATTEMPTS", "0"),
        ("MERCHANT_TIMEOUT_SECONDS", "nan"),
        ("MODEL_STRATEGY", "magic"),
    ],
)
def test_invalid_values_fail_naming_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        FunctionSettings.from_env({name: value})


def test_worst_case_lookup_time_bounds_the_runtime_call_timeout():
    settings = FunctionSettings.from_env(
        {
            "MERCHANT_TIMEOUT_SECONDS": "1",
            "MERCHANT_MAX_ATTEMPTS": "3",
            "MERCHANT_BACKOFF_SECONDS": "0.1",
            "MERCHANT_BACKOFF_MAX_SECONDS": "1",
        }
    )
    assert settings.merchant_worst_case_seconds() == pytest.approx(3 + 0.1 + 0.2)


def test_the_decision_ledger_defaults():
    settings = FunctionSettings.from_env({})
    assert (settings.decision_deadline_seconds, settings.transaction_ttl_seconds) == (120, 600)
    assert (settings.decided_retention_seconds, settings.decisions_enabled) == (3600, True)


@pytest.mark.parametrize("deadline, ttl", [("600", "600"), ("700", "600")])
def test_the_pending_ttl_must_outlast_the_decision_deadline(deadline, ttl):
    # Expiring first, the TTL would drop a transaction without a decision.
    with pytest.raises(SettingsError, match=r"TRANSACTION_TTL_SECONDS=.* must exceed DECISION_DEADLINE_SECONDS"):
        FunctionSettings.from_env({"DECISION_DEADLINE_SECONDS": deadline, "TRANSACTION_TTL_SECONDS": ttl})


def test_decisions_can_be_switched_off():
    assert FunctionSettings.from_env({"DECISIONS_ENABLED": "false"}).decisions_enabled is False
