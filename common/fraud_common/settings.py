"""Typed readers for environment variables, and the declarations every setting is read through.

Every setting of every component comes from the environment so that the same
code runs on a laptop and in a pod. A wrong value must fail at start-up with a
message that names the variable, not later with a confusing stack trace.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
S = TypeVar("S")


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


# ---------------------------------------------------------------- declared settings
# Each variable is declared once, with its default and what it means: the settings classes read through the
# declarations, and docs/configuration.md is generated from them (`make generate`), so neither a default nor a
# meaning is ever written twice.

_SETTING = "fraud_common.setting"
_READERS: dict[type, Callable[..., Any]] = {str: env_str, int: env_int, float: env_float, bool: env_bool}


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, its default, what it means and which values it accepts.

    `kind` parses the value (str, int, float, bool or Path; the default's kind unless given). A setting whose
    default is None is optional: None when unset, and with `zero_is_unset` when 0 too. `shown_default` is how
    the docs show a default that is absent or computed (a packaged path, "one second's worth").
    """

    variable: str
    default: Any
    meaning: str
    kind: type | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    zero_is_unset: bool = False
    shown_default: str | None = None

    def __post_init__(self) -> None:
        if self.reads_as not in _READERS and self.reads_as is not Path:
            raise TypeError(f"{self.variable}: no reader for {self.reads_as.__name__}")
        if self.zero_is_unset and not self.optional:
            raise TypeError(f"{self.variable}: only an optional setting can read 0 as unset")

    @property
    def reads_as(self) -> type:
        """The kind a value is parsed as: `kind`, else the default's; text for an optional setting without one."""
        if self.kind is not None:
            return self.kind
        return str if self.default is None else Path if isinstance(self.default, Path) else type(self.default)

    @property
    def optional(self) -> bool:
        """Without a default the setting is None when unset."""
        return self.default is None

    def read(self, env: Mapping[str, str] | None = None) -> Any:
        """The value from `env` (default: the process environment); SettingsError names the variable."""
        if self.optional and env_str(self.variable, "", env) == "":
            return None
        kind = self.reads_as
        if kind is Path:
            return Path(env_str(self.variable, str(self.default), env))
        value = _READERS[kind](self.variable, kind() if self.default is None else self.default, env)
        if self.zero_is_unset and value == 0:
            return None
        if kind in (int, float):
            _check_bounds(self.variable, value, self.minimum, self.maximum)
        if self.choices and value not in self.choices:
            raise SettingsError(f"{self.variable}={value!r} is not one of {', '.join(self.choices)}")
        return value

    def accepts(self) -> str:
        """The values it accepts, for the docs: choices, bounds or the kind."""
        if self.choices:
            return ", ".join(f"`{choice}`" for choice in self.choices)
        if self.reads_as is bool:
            return "`true`, `false`"
        low, high = (None if bound is None else _shown(bound) for bound in (self.minimum, self.maximum))
        if low is not None and high is not None:
            return f"{low}..{high}"
        if low is not None:
            return f"≥ {low}"
        if high is not None:
            return f"≤ {high}"
        return {int: "an integer", float: "a number", Path: "a path"}.get(self.reads_as, "a string")

    def documented_default(self) -> str:
        if self.shown_default is not None:
            return self.shown_default
        return f"`{_shown(self.default)}`"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def setting(
    variable: str,
    default: Any,
    meaning: str,
    *,
    kind: type | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] = (),
    zero_is_unset: bool = False,
    shown_default: str | None = None,
) -> Any:
    """A dataclass field read from `variable` by `read_settings`: the default, its meaning and bounds, once.

    The kind is the default's type unless given; a None default makes the setting optional (None when unset).
    """
    declared = Setting(
        variable,
        default,
        meaning,
        kind=kind,
        minimum=minimum,
        maximum=maximum,
        choices=choices,
        zero_is_unset=zero_is_unset,
        shown_default=shown_default,
    )
    return field(default=default, metadata={_SETTING: declared})


def declared_settings(cls: type) -> tuple[tuple[str, Setting], ...]:
    """(field name, setting) of every field of a settings dataclass declared with `setting()`, in field order."""
    return tuple((item.name, item.metadata[_SETTING]) for item in fields(cls) if _SETTING in item.metadata)


def read_settings(cls: type[S], env: Mapping[str, str] | None = None) -> S:
    """An instance of `cls` with every declared field read from `env` (default: the process environment)."""
    return cls(**{name: declared.read(env) for name, declared in declared_settings(cls)})
