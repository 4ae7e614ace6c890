"""Simulator settings, read from the environment through `fraud_common.settings`.

The CLI uses these values as its flag defaults, so a pod is configured with
environment variables alone while a developer can still override any of them
on the command line. A bad value fails at start-up naming the variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fraud_common.settings import read_settings, setting

# Each account is a bisect entry in memory; a million is plenty for any load test.
MAX_ACCOUNTS = 1_000_000


@dataclass(frozen=True)
class SimulatorSettings:
    """Every knob of the simulator, declared once: docs/configuration.md's table is generated from here.

    The CLI's flags take these values as their defaults (`fraud-simulator <command> --help` names each flag).
    """

    bootstrap_servers: str = setting("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092", "Kafka brokers")
    rate: float = setting("SIMULATOR_RATE", 10.0, "transactions per second", minimum=0.001)
    burst: float | None = setting(
        "SIMULATOR_BURST",
        None,
        "token bucket size",
        kind=float,
        minimum=1.0,
        zero_is_unset=True,
        shown_default="one second's worth, at least 1 (`0` or unset)",
    )
    accounts: int = setting(
        "SIMULATOR_ACCOUNTS", 10_000, "account population, `run` only", minimum=1, maximum=MAX_ACCOUNTS
    )
    skew: float = setting(
        "SIMULATOR_SKEW", 0.8, "Zipf exponent of the accounts; `0` = uniform, `run` only", minimum=0.0
    )
    seed: int | None = setting(
        "SIMULATOR_SEED",
        None,
        "seeds accounts, merchants, amounts and confirmation decisions",
        kind=int,
        shown_default="random (`run`), `0` (`scenario`)",
    )
    group: str = setting("SIMULATOR_GROUP", "fraud-simulator", "consumer group for `alerts` (`run`)")
    confirm_share: float = setting(
        "SIMULATOR_CONFIRM_SHARE", 0.05, "share of alerts confirmed as fraud", minimum=0.0, maximum=1.0
    )
    compromised_share: float = setting(
        "SIMULATOR_COMPROMISED_SHARE",
        0.004,
        "chance that a transaction starts a compromised card's burst: 4-8 transactions of 200-1000 USD from one "
        "card (picked uniformly), interleaved with the rest; scenario mode uses the same share",
        minimum=0.0,
        maximum=1.0,
    )
    threshold_share: float = setting(
        "SIMULATOR_THRESHOLD_SHARE",
        0.001,
        "chance that, after a transaction, its account sets its own alert threshold: a `thresholds` record "
        '`{"account", "threshold"}` with a threshold drawn from 60-95 (the contract accepts 1-100), `run` only',
        minimum=0.0,
        maximum=1.0,
    )
    confirm_cooldown: float = setting(
        "SIMULATOR_CONFIRM_COOLDOWN",
        1800.0,
        "seconds before the same account is confirmed again (match the pipeline's FRAUD_WINDOW_SECONDS), `run` only",
        minimum=0.0,
    )
    status_interval: float = setting(
        "SIMULATOR_STATUS_INTERVAL", 5.0, "seconds between status lines; `0` = off", minimum=0.0
    )
    max_transactions: int | None = setting(
        "SIMULATOR_MAX_TRANSACTIONS",
        None,
        "stop `run` after this many",
        kind=int,
        minimum=0,
        zero_is_unset=True,
        shown_default="unlimited (`0` or unset)",
    )
    drain_seconds: float = setting(
        "SIMULATOR_DRAIN_SECONDS",
        5.0,
        "after the last of SIMULATOR_MAX_TRANSACTIONS, read alerts this long",
        minimum=0.0,
    )
    connect_timeout: float = setting(
        "SIMULATOR_CONNECT_TIMEOUT",
        60.0,
        "retry connecting at start (0.5 s backoff doubling to 10 s) this long",
        minimum=0.0,
    )
    scenario_count: int = setting("SIMULATOR_SCENARIO_COUNT", 100, "transactions in a `scenario`", minimum=0)
    scenario_timeout: float = setting(
        "SIMULATOR_SCENARIO_TIMEOUT", 30.0, "seconds a `scenario` collects alerts after producing", minimum=0.0
    )
    health_host: str = setting(
        "SIMULATOR_HEALTH_HOST", "127.0.0.1", "the address of the health server (`0.0.0.0` in a pod)"
    )
    health_port: int = setting(
        "SIMULATOR_HEALTH_PORT",
        0,
        "serve `/healthz` and `/metrics` on this port (`0`: no health server), `run` only",
        minimum=0,
        maximum=65535,
    )
    smoke_topic: str = setting(
        "SIMULATOR_SMOKE_TOPIC",
        "decisions",
        "what `smoke` waits on: `decisions` (key = transaction id) or `alerts` (key = account)",
    )
    smoke_timeout: float = setting(
        "SIMULATOR_SMOKE_TIMEOUT", 180.0, "seconds `smoke` waits for the record before it fails", minimum=0.0
    )


def effective_burst(rate: float, burst: float | None) -> float:
    """The bucket size: as configured, else one second's worth and at least one token.

    That default neither stalls a fractional rate nor floods the topic at start-up.
    """
    return max(1.0, rate) if burst is None else burst


def load_settings(env: Mapping[str, str] | None = None) -> SimulatorSettings:
    """Read all SIMULATOR_* variables (and KAFKA_BOOTSTRAP_SERVERS); raise SettingsError on bad input.

    `env` defaults to os.environ; tests pass a dict instead of patching the process.
    """
    return read_settings(SimulatorSettings, env)
