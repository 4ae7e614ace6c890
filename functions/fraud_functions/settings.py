"""Settings of the function server, all from environment variables.

Defaults suit the local stack; Kubernetes sets the same variables from the
chart's values. Each is declared once below, with its meaning:
docs/configuration.md's table is generated from these declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from fraud_common.settings import SettingsError, read_settings, setting

DEFAULT_MODEL_PATH = Path(__file__).parent / "models" / "fraud-model.json"
MODEL_STRATEGIES = ("model-file", "random")


@dataclass(frozen=True)
class FunctionSettings:
    host: str = setting("FUNCTIONS_HOST", "127.0.0.1", "listen address (`0.0.0.0` in a container)")
    port: int = setting("FUNCTIONS_PORT", 8000, "listen port", minimum=1, maximum=65535)
    merchant_service_url: str = setting("MERCHANT_SERVICE_URL", "http://127.0.0.1:8090", "merchant-service base URL")
    merchant_timeout_seconds: float = setting(
        "MERCHANT_TIMEOUT_SECONDS", 1.0, "timeout of one merchant-service attempt", minimum=0.01
    )
    merchant_max_attempts: int = setting(
        "MERCHANT_MAX_ATTEMPTS", 3, "attempts per merchant lookup", minimum=1, maximum=10
    )
    merchant_backoff_seconds: float = setting(
        "MERCHANT_BACKOFF_SECONDS", 0.1, "base of the exponential backoff between attempts (full jitter)", minimum=0
    )
    merchant_backoff_max_seconds: float = setting("MERCHANT_BACKOFF_MAX_SECONDS", 1.0, "cap of one backoff", minimum=0)
    merchant_fallback_score: float = setting(
        "MERCHANT_FALLBACK_SCORE",
        50.0,
        "score used, flagged `degraded`, when merchant-service cannot answer",
        minimum=0,
        maximum=100,
    )
    merchant_cache_ttl_seconds: int = setting(
        "MERCHANT_CACHE_TTL_SECONDS", 3600, "how long a merchant score is cached (also the state TTL)", minimum=1
    )
    merchant_degraded_ttl_seconds: int = setting(
        "MERCHANT_DEGRADED_TTL_SECONDS",
        60,
        "how long a fallback is cached before merchant-service is asked again",
        minimum=0,
    )
    fraud_window_seconds: int = setting(
        "FRAUD_WINDOW_SECONDS", 1800, "sliding window of confirmed frauds per account", minimum=1
    )
    decision_deadline_seconds: int = setting(
        "DECISION_DEADLINE_SECONDS",
        120,
        "lookups that have not all answered by then are replaced by their fallbacks (flagged degraded); "
        "no score by a second deadline: decision `expired`",
        minimum=1,
    )
    transaction_ttl_seconds: int = setting(
        "TRANSACTION_TTL_SECONDS",
        600,
        "state TTL of a transaction waiting for replies: a backstop, must exceed the deadline (checked at start)",
        minimum=1,
    )
    decided_retention_seconds: int = setting(
        "DECIDED_RETENTION_SECONDS",
        3600,
        "how long a decided transaction id is remembered; a record with that id is a duplicate meanwhile",
        minimum=1,
    )
    decisions_enabled: bool = setting(
        "DECISIONS_ENABLED", True, "write one record per transaction to the `decisions` topic"
    )
    threshold_ttl_seconds: int = setting(
        "THRESHOLD_TTL_SECONDS",
        30 * 24 * 3600,
        "how long an account's own threshold (topic `thresholds`) is kept after it was set (30 days by default)",
        minimum=1,
    )
    alert_threshold: float | None = setting(
        "ALERT_THRESHOLD",
        None,
        "an explicit override of the champion model file's threshold (which owns it: unset is the rule); an "
        "account's own threshold (topic `thresholds`, 1..100 read as /100) still wins for its transactions",
        kind=float,
        minimum=0,
        maximum=1,
        shown_default="unset: the model file's `threshold`",
    )
    model_strategy: str = setting(
        "MODEL_STRATEGY",
        "model-file",
        "`model-file` (the logistic model of MODEL_PATH) or `random` (the workshop's)",
        choices=MODEL_STRATEGIES,
    )
    model_path: Path = setting(
        "MODEL_PATH",
        DEFAULT_MODEL_PATH,
        "model file to load",
        shown_default="the packaged `fraud_functions/models/fraud-model.json`",
    )
    challenger_model_path: Path | None = setting(
        "CHALLENGER_MODEL_PATH",
        None,
        "a second model file scored in shadow on every transaction: its score and would-alert are recorded in each "
        "decision, it never alerts",
        kind=Path,
        shown_default="unset: no challenger",
    )
    model_reload_seconds: float = setting(
        "MODEL_RELOAD_SECONDS",
        5.0,
        "how often the model files are re-read; a changed file that validates replaces the running model (promotion, "
        "rollback), one that does not is refused and the running one keeps deciding; 0: never",
        minimum=0,
    )
    shutdown_drain_seconds: float = setting(
        "FUNCTIONS_SHUTDOWN_DRAIN_SECONDS",
        0.0,
        "after SIGTERM, seconds to keep serving with readiness off (a few seconds in Kubernetes)",
        minimum=0,
    )
    shutdown_timeout_seconds: float = setting(
        "FUNCTIONS_SHUTDOWN_TIMEOUT_SECONDS", 10.0, "then, how long in-flight requests may take to finish", minimum=0
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FunctionSettings:
        """Every setting from `env` (default: the process environment); SettingsError names a bad variable."""
        settings = read_settings(cls, env)
        if settings.transaction_ttl_seconds <= settings.decision_deadline_seconds:
            # The TTL is the backstop behind the deadline: expiring first, it would drop a
            # transaction without a decision.
            raise SettingsError(
                f"TRANSACTION_TTL_SECONDS={settings.transaction_ttl_seconds} must exceed "
                f"DECISION_DEADLINE_SECONDS={settings.decision_deadline_seconds}"
            )
        return replace(settings, merchant_service_url=settings.merchant_service_url.rstrip("/"))

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
