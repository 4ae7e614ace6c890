"""An asyncio token bucket: `rate` tokens per second, at most `burst` saved up.

Sleeping 1/rate after every record under-delivers (the send itself takes time)
and drifts; a bucket refilled from a monotonic clock keeps the long-run rate
exact while tolerating short stalls (up to `burst` records catch up at once).
Clock and sleep are injected so tests run on a fake clock without real time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# Refill arithmetic in floats can leave 0.9999999 of a token; treat that as one.
_EPSILON = 1e-9


class TokenBucket:
    """Waits in `acquire()` until a token is available; starts full (one burst allowed)."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1 token")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._updated = now

    @property
    def tokens(self) -> float:
        """Tokens available right now (for status and tests)."""
        self._refill()
        return self._tokens

    def try_acquire(self, tokens: float = 1.0) -> bool:
        """Take `tokens` if they are available now, without waiting."""
        self._refill()
        if self._tokens + _EPSILON >= tokens:
            self._tokens = max(0.0, self._tokens - tokens)
            return True
        return False

    async def acquire(self, tokens: float = 1.0) -> None:
        """Wait until `tokens` are available, then take them."""
        if tokens > self.burst:
            raise ValueError("cannot acquire more tokens than the burst size")
        while not self.try_acquire(tokens):
            # Sleep exactly until the deficit is refilled; the deficit is
            # computed from the clock, so oversleeping never accumulates drift.
            await self._sleep((tokens - self._tokens) / self.rate)
