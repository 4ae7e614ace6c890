"""Typed environment readers: defaults, parsing, bounds and clear errors."""

from __future__ import annotations

import pytest

from fraud_common.settings import SettingsError, env_bool, env_float, env_int, env_str


def test_missing_or_blank_values_take_the_default():
    assert env_int("X", 3, {}) == 3 and env_int("X", 3, {"X": "  "}) == 3
    assert env_str("S", "d", {}) == "d" and env_bool("B", True, {}) is True


def test_values_are_parsed():
    assert env_int("X", 0, {"X": "42"}) == 42
    assert env_float("F", 0.0, {"F": "0.25"}) == 0.25
    assert env_bool("B", False, {"B": "yes"}) is True and env_bool("B", True, {"B": "off"}) is False


@pytest.mark.parametrize(
    "call",
    [
        lambda: env_int("PORT", 1, {"PORT": "x"}),
        lambda: env_int("PORT", 1, {"PORT": "0"}, minimum=1),
        lambda: env_float("PORT", 1.0, {"PORT": "inf"}),
        lambda: env_float("PORT", 1.0, {"PORT": "2"}, maximum=1),
        lambda: env_bool("PORT", True, {"PORT": "maybe"}),
    ],
)
def test_bad_values_name_the_variable(call):
    with pytest.raises(SettingsError, match="PORT"):
        call()
