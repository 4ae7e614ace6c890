"""Start-up settings of merchant-service, read once from the environment.

All values go through `fraud_common.settings.env_*` so that a wrong value stops
the process at start with a message naming the variable, like every other
component of the platform.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from fraud_common.settings import SettingsError, env_bool, env_float, env_int, env_str

# An injected latency above one minute is a misconfiguration, not a test scenario;
# the bound is shared with the admin endpoint (see faults.py).
MAX_LATENCY_MS = 60_000.0
# A shorter admin token is guessable; 16 characters of a random token are not.
MIN_ADMIN_TOKEN_LENGTH = 16


@dataclass(frozen=True)
class Settings:
    """Everything merchant-service needs to start; immutable once read."""

    host: str = "127.0.0.1"
    port: int = 8090
    latency_ms_min: float = 5.0
    latency_ms_max: float = 30.0
    error_rate: float = 0.0
    fault_seed: int | None = None
    admin_enabled: bool = False
    admin_token: str = ""
    access_log: bool = False
    shutdown_drain_seconds: float = 0.0
    shutdown_timeout_seconds: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from `env` (default: the process environment).

        Raises SettingsError naming the offending variable.
        """
        source = os.environ if env is None else env
        latency_min = env_float("MERCHANT_LATENCY_MS_MIN", 5.0, source, minimum=0.0, maximum=MAX_LATENCY_MS)
        latency_max = env_float("MERCHANT_LATENCY_MS_MAX", 30.0, source, minimum=0.0, maximum=MAX_LATENCY_MS)
        if latency_min > latency_max:
            raise SettingsError(f"MERCHANT_LATENCY_MS_MIN={latency_min} is above MERCHANT_LATENCY_MS_MAX={latency_max}")
        raw_seed = source.get("MERCHANT_FAULT_SEED")
        # Unset means "non-reproducible": env_int needs an int default, so None is handled here.
        seed = None if raw_seed is None or raw_seed.strip() == "" else env_int("MERCHANT_FAULT_SEED", 0, source)
        admin_enabled = env_bool("MERCHANT_ADMIN_ENABLED", False, source)
        admin_token = env_str("MERCHANT_ADMIN_TOKEN", "", source)
        if admin_enabled and len(admin_token) < MIN_ADMIN_TOKEN_LENGTH:
            raise SettingsError(
                f"MERCHANT_ADMIN_ENABLED=true needs MERCHANT_ADMIN_TOKEN of at least {MIN_ADMIN_TOKEN_LENGTH} "
                "characters: the admin endpoint changes how the service fails"
            )
        return cls(
            host=env_str("MERCHANT_SERVICE_HOST", "127.0.0.1", source),
            port=env_int("MERCHANT_SERVICE_PORT", 8090, source, minimum=1, maximum=65535),
            latency_ms_min=latency_min,
            latency_ms_max=latency_max,
            error_rate=env_float("MERCHANT_ERROR_RATE", 0.0, source, minimum=0.0, maximum=1.0),
            fault_seed=seed,
            admin_enabled=admin_enabled,
            admin_token=admin_token,
            access_log=env_bool("MERCHANT_ACCESS_LOG", False, source),
            shutdown_drain_seconds=env_float(
                "MERCHANT_SHUTDOWN_DRAIN_SECONDS", 0.0, source, minimum=0.0, maximum=300.0
            ),
            shutdown_timeout_seconds=env_float(
                "MERCHANT_SHUTDOWN_TIMEOUT_SECONDS", 10.0, source, minimum=0.0, maximum=300.0
            ),
        )
