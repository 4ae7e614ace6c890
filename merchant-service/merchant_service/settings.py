"""Start-up settings of merchant-service, read once from the environment.

Every value is declared once with `fraud_common.settings.setting` and read through it, so that a wrong value stops
the process at start with a message naming the variable, like every other
component of the platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fraud_common.settings import SettingsError, read_settings, setting

# An injected latency above one minute is a misconfiguration, not a test scenario;
# the bound is shared with the admin endpoint (see faults.py).
MAX_LATENCY_MS = 60_000.0
# A shorter admin token is guessable; 16 characters of a random token are not.
MIN_ADMIN_TOKEN_LENGTH = 16


@dataclass(frozen=True)
class Settings:
    """Everything merchant-service needs to start; immutable once read. docs/configuration.md is generated
    from these declarations."""

    host: str = setting("MERCHANT_SERVICE_HOST", "127.0.0.1", "listen address (`0.0.0.0` in a container)")
    port: int = setting("MERCHANT_SERVICE_PORT", 8090, "listen port", minimum=1, maximum=65535)
    latency_ms_min: float = setting(
        "MERCHANT_LATENCY_MS_MIN", 5.0, "lower bound of the injected latency (ms)", minimum=0.0, maximum=MAX_LATENCY_MS
    )
    latency_ms_max: float = setting(
        "MERCHANT_LATENCY_MS_MAX",
        30.0,
        "upper bound of the injected latency (ms, at least the lower bound)",
        minimum=0.0,
        maximum=MAX_LATENCY_MS,
    )
    error_rate: float = setting(
        "MERCHANT_ERROR_RATE", 0.0, "share of score requests answered 503", minimum=0.0, maximum=1.0
    )
    # Unset means "non-reproducible".
    fault_seed: int | None = setting(
        "MERCHANT_FAULT_SEED", None, "seed of the fault RNG, for reproducible runs", kind=int, shown_default="unset"
    )
    admin_enabled: bool = setting(
        "MERCHANT_ADMIN_ENABLED", False, "`true` adds `/admin/faults`; it then needs MERCHANT_ADMIN_TOKEN"
    )
    admin_token: str = setting(
        "MERCHANT_ADMIN_TOKEN",
        "",
        f"the bearer token every admin request must present (at least {MIN_ADMIN_TOKEN_LENGTH} characters; "
        "refused at start otherwise)",
        shown_default="unset",
    )
    access_log: bool = setting("MERCHANT_ACCESS_LOG", False, "one log line per request (aiohttp access log)")
    shutdown_drain_seconds: float = setting(
        "MERCHANT_SHUTDOWN_DRAIN_SECONDS",
        0.0,
        "after SIGTERM/SIGINT: seconds to keep serving with `/readyz` = 503 "
        "(about readiness period x failure threshold in Kubernetes)",
        minimum=0.0,
        maximum=300.0,
    )
    shutdown_timeout_seconds: float = setting(
        "MERCHANT_SHUTDOWN_TIMEOUT_SECONDS",
        10.0,
        "then: how long in-flight requests may take to finish",
        minimum=0.0,
        maximum=300.0,
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from `env` (default: the process environment).

        Raises SettingsError naming the offending variable.
        """
        settings = read_settings(cls, env)
        if settings.latency_ms_min > settings.latency_ms_max:
            raise SettingsError(
                f"MERCHANT_LATENCY_MS_MIN={settings.latency_ms_min} is above "
                f"MERCHANT_LATENCY_MS_MAX={settings.latency_ms_max}"
            )
        if settings.admin_enabled and len(settings.admin_token) < MIN_ADMIN_TOKEN_LENGTH:
            raise SettingsError(
                f"MERCHANT_ADMIN_ENABLED=true needs MERCHANT_ADMIN_TOKEN of at least {MIN_ADMIN_TOKEN_LENGTH} "
                "characters: the admin endpoint changes how the service fails"
            )
        return settings
