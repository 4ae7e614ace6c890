"""Settings from the environment."""

import pytest

from fraud_common.settings import SettingsError
from fraud_simulator.settings import effective_burst, load_settings


def test_defaults():
    s = load_settings({})
    assert s.bootstrap_servers == "localhost:9092"
    assert s.rate == 10.0 and s.burst is None and effective_burst(s.rate, s.burst) == 10.0
    assert s.accounts == 10_000 and s.skew == 0.8 and s.seed is None and s.confirm_cooldown == 1800.0
    assert s.group == "fraud-simulator"
    assert s.confirm_share == 0.05 and s.status_interval == 5.0
    assert s.max_transactions is None


def test_values_are_read():
    s = load_settings(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "kafka:9093",
            "SIMULATOR_RATE": "250",
            "SIMULATOR_BURST": "20",
            "SIMULATOR_ACCOUNTS": "50",
            "SIMULATOR_SKEW": "0",
            "SIMULATOR_SEED": "7",
            "SIMULATOR_GROUP": "g",
            "SIMULATOR_CONFIRM_SHARE": "0.5",
            "SIMULATOR_STATUS_INTERVAL": "0",
            "SIMULATOR_MAX_TRANSACTIONS": "99",
        }
    )
    assert (s.bootstrap_servers, s.rate, s.burst, s.accounts, s.skew, s.seed) == ("kafka:9093", 250, 20, 50, 0, 7)
    assert (s.group, s.confirm_share, s.status_interval, s.max_transactions) == ("g", 0.5, 0, 99)


def test_fractional_rate_gets_at_least_one_token_of_burst():
    assert effective_burst(0.2, None) == 1.0
    assert effective_burst(0.2, 3.0) == 3.0


@pytest.mark.parametrize(
    "name, value",
    [
        ("SIMULATOR_RATE", "fast"),
        ("SIMULATOR_RATE", "0"),
        ("SIMULATOR_ACCOUNTS", "0"),
        ("SIMULATOR_ACCOUNTS", "1.5"),
        ("SIMULATOR_ACCOUNTS", "2000000"),
        ("SIMULATOR_SKEW", "-1"),
        ("SIMULATOR_SEED", "abc"),
        ("SIMULATOR_CONFIRM_SHARE", "1.5"),
        ("SIMULATOR_STATUS_INTERVAL", "-1"),
        ("SIMULATOR_MAX_TRANSACTIONS", "-3"),
        ("SIMULATOR_BURST", "0.5"),
    ],
)
def test_invalid_value_names_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})
