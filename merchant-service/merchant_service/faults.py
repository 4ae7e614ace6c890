"""Fault injection: make merchant-service slow or failing on purpose.

The fraud functions must survive a slow or broken merchant API (timeouts,
retries, degraded decisions). These faults let tests and demos produce exactly
that, at start (env) and at run time (admin endpoint), without touching the
network. The random source and the sleep are injected so that tests are
reproducible and never sleep for real.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from merchant_service.settings import MAX_LATENCY_MS

Sleep = Callable[[float], Awaitable[None]]

FIELDS = ("latency_ms_min", "latency_ms_max", "error_rate")


class FaultConfigError(ValueError):
    """A fault configuration (typically an admin update) is invalid; the message says why."""


def _number(name: str, value: object, maximum: float) -> float:
    # bool is an int in Python; true/false is not a latency or a rate.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FaultConfigError(f"'{name}' must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise FaultConfigError(f"'{name}' must be finite")
    if value < 0 or value > maximum:
        raise FaultConfigError(f"'{name}'={value} is outside 0..{maximum:g}")
    return float(value)


@dataclass(frozen=True)
class FaultSettings:
    """The active faults; immutable so that a swap is atomic for in-flight requests."""

    latency_ms_min: float = 5.0
    latency_ms_max: float = 30.0
    error_rate: float = 0.0

    def __post_init__(self) -> None:
        _number("latency_ms_min", self.latency_ms_min, MAX_LATENCY_MS)
        _number("latency_ms_max", self.latency_ms_max, MAX_LATENCY_MS)
        _number("error_rate", self.error_rate, 1.0)
        if self.latency_ms_min > self.latency_ms_max:
            raise FaultConfigError(
                f"'latency_ms_min'={self.latency_ms_min} is above 'latency_ms_max'={self.latency_ms_max}"
            )

    def to_dict(self) -> dict[str, float]:
        """The JSON shape of GET/PUT /admin/faults."""
        return asdict(self)


def apply_update(current: FaultSettings, body: object) -> FaultSettings:
    """Return `current` changed by an admin body (any subset of FIELDS).

    Everything is checked before anything changes, so an invalid body leaves
    the active settings untouched. Raises FaultConfigError with the reason.
    """
    if not isinstance(body, Mapping):
        raise FaultConfigError(f"body must be a JSON object, got {type(body).__name__}")
    unknown = sorted(str(key) for key in body if key not in FIELDS)
    if unknown:
        raise FaultConfigError(f"unknown keys {unknown}; allowed: {list(FIELDS)}")
    changes: dict[str, Any] = {}
    for name, value in body.items():
        maximum = 1.0 if name == "error_rate" else MAX_LATENCY_MS
        changes[name] = _number(name, value, maximum)
    merged = {**current.to_dict(), **changes}
    return FaultSettings(**merged)


class FaultInjector:
    """Applies the current faults to one request: sleep, then maybe fail."""

    def __init__(
        self,
        settings: FaultSettings,
        *,
        rng: random.Random | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self._settings = settings
        self._rng = rng if rng is not None else random.Random()
        self._sleep: Sleep = sleep if sleep is not None else asyncio.sleep

    @property
    def settings(self) -> FaultSettings:
        """The faults now in force."""
        return self._settings

    def update(self, settings: FaultSettings) -> None:
        """Replace the faults; requests already sleeping keep the delay they drew."""
        self._settings = settings

    async def inject(self) -> bool:
        """Delay the request, then return True if it must fail with an injected error."""
        current = self._settings
        delay_ms = self._rng.uniform(current.latency_ms_min, current.latency_ms_max)
        if delay_ms > 0:
            await self._sleep(delay_ms / 1000.0)
        # random() is in [0, 1): rate 0 never fails, rate 1 always fails.
        return self._rng.random() < current.error_rate
