"""Typed environment readers: defaults, parsing, bounds and clear errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fraud_common.settings import (
    Setting,
    SettingsError,
    declared_settings,
    env_bool,
    env_float,
    env_int,
    env_str,
    read_settings,
    setting,
)


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


@dataclass(frozen=True)
class Example:
    port: int = setting("EXAMPLE_PORT", 8000, "listen port", minimum=1, maximum=65535)
    mode: str = setting("EXAMPLE_MODE", "fast", "how", choices=("fast", "slow"))
    seed: int | None = setting("EXAMPLE_SEED", None, "a seed", kind=int)
    limit: int | None = setting("EXAMPLE_LIMIT", None, "a limit", kind=int, minimum=5, zero_is_unset=True)
    path: Path = setting("EXAMPLE_PATH", Path("/opt/x"), "a file", shown_default="the packaged one")
    # Not an environment variable: set by the code that builds it.
    extra: dict[str, str] = field(default_factory=dict)


def test_a_declared_setting_class_reads_each_field_from_its_variable():
    assert read_settings(Example, {}) == Example()
    read = read_settings(
        Example,
        {"EXAMPLE_PORT": "9", "EXAMPLE_MODE": "slow", "EXAMPLE_SEED": "7", "EXAMPLE_LIMIT": "6", "EXAMPLE_PATH": "/y"},
    )
    assert (read.port, read.mode, read.seed, read.limit, read.path) == (9, "slow", 7, 6, Path("/y"))


def test_optional_settings_are_none_when_unset_and_zero_can_mean_unset():
    assert read_settings(Example, {"EXAMPLE_SEED": " ", "EXAMPLE_LIMIT": "0"}).limit is None
    assert read_settings(Example, {"EXAMPLE_SEED": "0"}).seed == 0  # 0 is a seed like any other


@pytest.mark.parametrize(
    "name, value",
    [("EXAMPLE_PORT", "0"), ("EXAMPLE_MODE", "medium"), ("EXAMPLE_SEED", "x"), ("EXAMPLE_LIMIT", "3")],
)
def test_a_declared_setting_refuses_bad_values_naming_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        read_settings(Example, {name: value})


def test_the_declarations_say_what_the_docs_show():
    declared = dict(declared_settings(Example))
    assert list(declared) == ["port", "mode", "seed", "limit", "path"]
    assert [item.accepts() for item in declared.values()] == [
        "1..65535",
        "`fast`, `slow`",
        "an integer",
        "≥ 5",
        "a path",
    ]
    assert declared["port"].documented_default() == "`8000`"
    assert declared["path"].documented_default() == "the packaged one"
    assert Setting("X", 0.5, "x").documented_default() == "`0.5`" and Setting("X", True, "x").accepts() == (
        "`true`, `false`"
    )


@pytest.mark.parametrize(
    "build",
    [
        lambda: Setting("X", 1, "zero as unset needs optional", kind=int, zero_is_unset=True),
        lambda: Setting("X", b"", "no reader", kind=bytes),
    ],
)
def test_a_declaration_that_cannot_be_read_is_refused(build):
    with pytest.raises(TypeError, match="X"):
        build()
