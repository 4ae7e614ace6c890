"""Settings from the environment: defaults, valid values, errors naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fraud_common.settings import SettingsError
from merchant_service import server
from merchant_service.settings import Settings


def test_defaults_with_empty_environment() -> None:
    assert Settings.from_env({}) == Settings(
        host="127.0.0.1",
        port=8090,
        latency_ms_min=5.0,
        latency_ms_max=30.0,
        error_rate=0.0,
        fault_seed=None,
        admin_enabled=False,
        access_log=False,
        shutdown_drain_seconds=0.0,
        shutdown_timeout_seconds=10.0,
    )


def test_valid_values_are_read() -> None:
    env = {
        "MERCHANT_SERVICE_HOST": "0.0.0.0",
        "MERCHANT_SERVICE_PORT": "9000",
        "MERCHANT_LATENCY_MS_MIN": "1",
        "MERCHANT_LATENCY_MS_MAX": "2.5",
        "MERCHANT_ERROR_RATE": "0.25",
        "MERCHANT_FAULT_SEED": "17",
        "MERCHANT_ADMIN_ENABLED": "false",
        "MERCHANT_ACCESS_LOG": "yes",
        "MERCHANT_SHUTDOWN_DRAIN_SECONDS": "5",
        "MERCHANT_SHUTDOWN_TIMEOUT_SECONDS": "3",
    }
    assert Settings.from_env(env) == Settings(
        host="0.0.0.0",
        port=9000,
        latency_ms_min=1.0,
        latency_ms_max=2.5,
        error_rate=0.25,
        fault_seed=17,
        admin_enabled=False,
        access_log=True,
        shutdown_drain_seconds=5.0,
        shutdown_timeout_seconds=3.0,
    )


def test_the_admin_endpoint_is_off_by_default_and_needs_a_token_when_on() -> None:
    assert Settings.from_env({}).admin_enabled is False
    for token in ("", "short-token"):
        with pytest.raises(SettingsError, match="MERCHANT_ADMIN_TOKEN of at least 16"):
            Settings.from_env({"MERCHANT_ADMIN_ENABLED": "true", "MERCHANT_ADMIN_TOKEN": token})
    settings = Settings.from_env({"MERCHANT_ADMIN_ENABLED": "true", "MERCHANT_ADMIN_TOKEN": "x" * 16})
    assert (settings.admin_enabled, settings.admin_token) == (True, "x" * 16)


def test_process_environment_is_the_default_source(monkeypatch) -> None:
    monkeypatch.setenv("MERCHANT_SERVICE_PORT", "8123")
    monkeypatch.setenv("MERCHANT_ERROR_RATE", "1")
    settings = Settings.from_env()
    assert (settings.port, settings.error_rate) == (8123, 1.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MERCHANT_SERVICE_PORT", "http"),
        ("MERCHANT_SERVICE_PORT", "0"),
        ("MERCHANT_SERVICE_PORT", "70000"),
        ("MERCHANT_LATENCY_MS_MIN", "fast"),
        ("MERCHANT_LATENCY_MS_MIN", "-1"),
        ("MERCHANT_LATENCY_MS_MAX", "1e9"),
        ("MERCHANT_ERROR_RATE", "1.5"),
        ("MERCHANT_ERROR_RATE", "nan"),
        ("MERCHANT_ERROR_RATE", "some"),
        ("MERCHANT_FAULT_SEED", "abc"),
        ("MERCHANT_ADMIN_ENABLED", "maybe"),
        ("MERCHANT_SHUTDOWN_DRAIN_SECONDS", "-2"),
    ],
)
def test_invalid_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_latency_min_above_max_names_both_variables() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"MERCHANT_LATENCY_MS_MIN": "50", "MERCHANT_LATENCY_MS_MAX": "10"})
    assert "MERCHANT_LATENCY_MS_MIN" in str(info.value)
    assert "MERCHANT_LATENCY_MS_MAX" in str(info.value)


def test_main_exits_2_on_invalid_settings(monkeypatch, caplog) -> None:
    monkeypatch.setattr(server, "configure_logging", lambda component: None)
    monkeypatch.setenv("MERCHANT_ERROR_RATE", "2")
    assert server.main() == server.EXIT_BAD_SETTINGS
    assert "MERCHANT_ERROR_RATE" in caplog.text


def test_python_dash_m_runs_the_same_entry_point() -> None:
    env = {**os.environ, "MERCHANT_SERVICE_PORT": "not-a-port"}
    result = subprocess.run(
        [sys.executable, "-m", "merchant_service"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "MERCHANT_SERVICE_PORT" in result.stdout
    assert '"component": "merchant-service"' in result.stdout  # JSON logs via fraud_common
