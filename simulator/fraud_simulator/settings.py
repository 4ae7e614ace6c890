"""Simulator settings, read from the environment through `fraud_common.settings`.

The CLI uses these values as its flag defaults, so a pod is configured with
environment variables alone while a developer can still override any of them
on the command line. A bad value fails at start-up naming the variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fraud_common.settings import SettingsError, env_float, env_int, env_str

# Each account is a bisect entry in memory; a million is plenty for any load test.
MAX_ACCOUNTS = 1_000_000


@dataclass(frozen=True)
class SimulatorSettings:
    """Every knob of the simulator; see docs/simulator.md for the meaning of each."""

    bootstrap_servers: str = "localhost:9092"
    rate: float = 10.0
    burst: float | None = None  # None: one second's worth of tokens, see effective_burst
    accounts: int = 10_000
    skew: float = 0.8
    seed: int | None = None
    group: str = "fraud-simulator"
    confirm_share: float = 0.05
    compromised_share: float = 0.004
    threshold_share: float = 0.001
    confirm_cooldown: float = 1800.0
    status_interval: float = 5.0
    max_transactions: int | None = None
    drain_seconds: float = 5.0
    connect_timeout: float = 60.0
    scenario_count: int = 100
    scenario_timeout: float = 30.0
    health_host: str = "127.0.0.1"
    health_port: int = 0  # 0: no health server
    smoke_topic: str = "decisions"
    smoke_timeout: float = 180.0


def _optional_int(name: str, env: Mapping[str, str] | None, minimum: int | None = None) -> int | None:
    """An integer setting where "unset" is meaningful (no seed, no limit)."""
    raw = env_str(name, "", env)
    if raw == "":
        return None
    return env_int(name, 0, {name: raw}, minimum=minimum)


def effective_burst(rate: float, burst: float | None) -> float:
    """The bucket size: as configured, else one second's worth and at least one token.

    That default neither stalls a fractional rate nor floods the topic at start-up.
    """
    return max(1.0, rate) if burst is None else burst


def load_settings(env: Mapping[str, str] | None = None) -> SimulatorSettings:
    """Read all SIMULATOR_* variables (and KAFKA_BOOTSTRAP_SERVERS); raise SettingsError on bad input.

    `env` defaults to os.environ; tests pass a dict instead of patching the process.
    """
    rate = env_float("SIMULATOR_RATE", 10.0, env, minimum=0.001)
    burst: float | None = env_float("SIMULATOR_BURST", 0.0, env, minimum=0.0)
    if burst == 0.0:
        burst = None
    elif burst is not None and burst < 1.0:
        raise SettingsError(f"SIMULATOR_BURST={burst} is below the minimum 1 (0 means one second's worth)")
    max_transactions = _optional_int("SIMULATOR_MAX_TRANSACTIONS", env, minimum=0)
    return SimulatorSettings(
        bootstrap_servers=env_str("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092", env),
        rate=rate,
        burst=burst,
        accounts=env_int("SIMULATOR_ACCOUNTS", 10_000, env, minimum=1, maximum=MAX_ACCOUNTS),
        skew=env_float("SIMULATOR_SKEW", 0.8, env, minimum=0.0),
        seed=_optional_int("SIMULATOR_SEED", env),
        group=env_str("SIMULATOR_GROUP", "fraud-simulator", env),
        confirm_share=env_float("SIMULATOR_CONFIRM_SHARE", 0.05, env, minimum=0.0, maximum=1.0),
        compromised_share=env_float("SIMULATOR_COMPROMISED_SHARE", 0.004, env, minimum=0.0, maximum=1.0),
        threshold_share=env_float("SIMULATOR_THRESHOLD_SHARE", 0.001, env, minimum=0.0, maximum=1.0),
        confirm_cooldown=env_float("SIMULATOR_CONFIRM_COOLDOWN", 1800.0, env, minimum=0.0),
        status_interval=env_float("SIMULATOR_STATUS_INTERVAL", 5.0, env, minimum=0.0),
        max_transactions=None if max_transactions == 0 else max_transactions,
        drain_seconds=env_float("SIMULATOR_DRAIN_SECONDS", 5.0, env, minimum=0.0),
        connect_timeout=env_float("SIMULATOR_CONNECT_TIMEOUT", 60.0, env, minimum=0.0),
        scenario_count=env_int("SIMULATOR_SCENARIO_COUNT", 100, env, minimum=0),
        scenario_timeout=env_float("SIMULATOR_SCENARIO_TIMEOUT", 30.0, env, minimum=0.0),
        health_host=env_str("SIMULATOR_HEALTH_HOST", "127.0.0.1", env),
        health_port=env_int("SIMULATOR_HEALTH_PORT", 0, env, minimum=0, maximum=65535),
        smoke_topic=env_str("SIMULATOR_SMOKE_TOPIC", "decisions", env),
        smoke_timeout=env_float("SIMULATOR_SMOKE_TIMEOUT", 180.0, env, minimum=0.0),
    )
