"""Settings of the function server, all from environment variables.

Defaults suit the local stack; Kubernetes sets the same variables from the
chart's values. See docs/configuration.md for the full table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fraud_common.settings import SettingsError, env_bool, env_float, env_int, env_str

DEFAULT_MODEL_PATH = Path(__file__).parent / "models" / "fraud-model.json"
MODEL_STRATEGIES = ("model-file", "random")


@dataclass(frozen=True)
class FunctionSettings:
    host: str
    port: int
    merchant_service_url: str
    merchant_timeout_seconds: float
    merchant_max_attempts: int
    merchant_backoff_seconds: float
    merchant_backoff_max_seconds: float
    merchant_fallback_score: float
    merchant_cache_ttl_seconds: int
    merchant_degraded_ttl_seconds: int
    fraud_window_seconds: int
    decision_deadline_seconds: int
    transaction_ttl_seconds: int
    decided_retention_seconds: int
    decisions_enabled: bool
    threshold_ttl_seconds: int
    # None: the model file's threshold decides.
    alert_threshold: float | None
    model_strategy: str
    model_path: Path
    shutdown_drain_seconds: float
    shutdown_timeout_seconds: float

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FunctionSettings:
        strategy = env_str("MODEL_STRATEGY", "model-file", env)
        if strategy not in MODEL_STRATEGIES:
            raise SettingsError(f"MODEL_STRATEGY={strategy!r} is not one of {', '.join(MODEL_STRATEGIES)}")
        deadline = env_int("DECISION_DEADLINE_SECONDS", 120, env, minimum=1)
        ttl = env_int("TRANSACTION_TTL_SECONDS", 600, env, minimum=1)
        if ttl <= deadline:
            # The TTL is the backstop behind the deadline: expiring first, it would drop a
            # transaction without a decision.
            raise SettingsError(f"TRANSACTION_TTL_SECONDS={ttl} must exceed DECISION_DEADLINE_SECONDS={deadline}")
        return cls(
            host=env_str("FUNCTIONS_HOST", "127.0.0.1", env),
            port=env_int("FUNCTIONS_PORT", 8000, env, minimum=1, maximum=65535),
            merchant_service_url=env_str("MERCHANT_SERVICE_URL", "http://127.0.0.1:8090", env).rstrip("/"),
            merchant_timeout_seconds=env_float("MERCHANT_TIMEOUT_SECONDS", 1.0, env, minimum=0.01),
            merchant_max_attempts=env_int("MERCHANT_MAX_ATTEMPTS", 3, env, minimum=1, maximum=10),
            merchant_backoff_seconds=env_float("MERCHANT_BACKOFF_SECONDS", 0.1, env, minimum=0),
            merchant_backoff_max_seconds=env_float("MERCHANT_BACKOFF_MAX_SECONDS", 1.0, env, minimum=0),
            merchant_fallback_score=env_float("MERCHANT_FALLBACK_SCORE", 50.0, env, minimum=0, maximum=100),
            merchant_cache_ttl_seconds=env_int("MERCHANT_CACHE_TTL_SECONDS", 3600, env, minimum=1),
            merchant_degraded_ttl_seconds=env_int("MERCHANT_DEGRADED_TTL_SECONDS", 60, env, minimum=0),
            fraud_window_seconds=env_int("FRAUD_WINDOW_SECONDS", 1800, env, minimum=1),
            decision_deadline_seconds=deadline,
            transaction_ttl_seconds=ttl,
            decided_retention_seconds=env_int("DECIDED_RETENTION_SECONDS", 3600, env, minimum=1),
            decisions_enabled=env_bool("DECISIONS_ENABLED", True, env),
            threshold_ttl_seconds=env_int("THRESHOLD_TTL_SECONDS", 30 * 24 * 3600, env, minimum=1),
            alert_threshold=env_float("ALERT_THRESHOLD", 0.0, env, minimum=0, maximum=1)
            if env_str("ALERT_THRESHOLD", "", env)
            else None,
            model_strategy=strategy,
            model_path=Path(env_str("MODEL_PATH", str(DEFAULT_MODEL_PATH), env)),
            shutdown_drain_seconds=env_float("FUNCTIONS_SHUTDOWN_DRAIN_SECONDS", 0.0, env, minimum=0),
            shutdown_timeout_seconds=env_float("FUNCTIONS_SHUTDOWN_TIMEOUT_SECONDS", 10.0, env, minimum=0),
        )

    def merchant_worst_case_seconds(self) -> float:
        """Longest one lookup can take: every attempt times out and every backoff is maximal.

        The module spec's call timeout must exceed this, or the runtime would
        give up on a request the function is still (correctly) retrying.
        """
        backoffs = sum(
            min(self.merchant_backoff_max_seconds, self.merchant_backoff_seconds * 2.0**attempt)
            for attempt in range(self.merchant_max_attempts - 1)
        )
        return self.merchant_max_attempts * self.merchant_timeout_seconds + backoffs
