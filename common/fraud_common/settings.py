"""Typed readers for environment variables.

Every setting of every component comes from the environment so that the same
code runs on a laptop and in a pod. A wrong value must fail at start-up with a
message that names the variable, not later with a confusing stack trace.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used."""


def _read(
    name: str,
    default: T,
    parse: Callable[[str], T],
    expected: str,
    env: Mapping[str, str] | None,
) -> T:
    source = os.environ if env is None else env
    raw = source.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return parse(raw.strip())
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not {expected}") from None


def env_str(name: str, default: str, env: Mapping[str, str] | None = None) -> str:
    """A string setting; empty means the default."""
    return _read(name, default, str, "a string", env)


def env_int(
    name: str,
    default: int,
    env: Mapping[str, str] | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """An integer setting, optionally bounded."""
    value = _read(name, default, int, "an integer", env)
    _check_bounds(name, value, minimum, maximum)
    return value


def env_float(
    name: str,
    default: float,
    env: Mapping[str, str] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    """A float setting, optionally bounded."""
    value = _read(name, default, float, "a number", env)
    if value != value or value in (float("inf"), float("-inf")):
        raise SettingsError(f"{name}={value!r} is not a finite number")
    _check_bounds(name, value, minimum, maximum)
    return value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _parse_bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(raw)


def env_bool(name: str, default: bool, env: Mapping[str, str] | None = None) -> bool:
    """A boolean setting: 1/true/yes/on or 0/false/no/off."""
    return _read(name, default, _parse_bool, "a boolean (true/false)", env)


def _check_bounds(name: str, value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name}={value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name}={value} is above the maximum {maximum}")
