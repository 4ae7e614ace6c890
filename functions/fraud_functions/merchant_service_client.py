"""Asynchronous client for merchant-service with timeouts, bounded retries and backoff.

The workshop's lookup had none of these, so one slow merchant-service stalled
the pipeline. Here every attempt has its own timeout, transient failures
(timeouts, connection errors, 5xx, unreadable bodies) are retried a bounded
number of times with exponential backoff and full jitter, and permanent
failures (4xx) are not retried at all. The caller decides what to do with a
failed lookup (the merchant function falls back to a neutral score).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

import aiohttp
from opentelemetry import trace

from fraud_common import tracing
from fraud_functions.metrics import (
    MERCHANT_ATTEMPTS,
    MERCHANT_LOOKUP_DURATION,
    MERCHANT_RETRIES,
)

log = logging.getLogger(__name__)
TRACER = tracing.tracer("fraud_functions.merchant_service_client")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class LookupResult:
    """The score, or why there is none, and how many attempts it took."""

    score: float | None
    attempts: int
    error: str | None = None


class MerchantScores(Protocol):
    """What the functions need of merchant-service: a score per merchant, and a lifetime (the server's)."""

    async def start(self) -> None: ...

    async def score(self, merchant: str) -> LookupResult: ...

    async def close(self) -> None: ...


class _Permanent(Exception):
    """A failure that another attempt cannot fix (for example a 4xx answer)."""


class _Transient(Exception):
    """A failure that may pass: timeout, connection error, 5xx, unreadable body."""


class MerchantServiceClient:
    """Looks up merchant risk scores in merchant-service; one instance per process, sharing a connection pool."""

    def __init__(
        self,
        base_url: str,
        timeout_seconds: float,
        max_attempts: int,
        backoff_seconds: float,
        backoff_max_seconds: float,
        *,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._max_attempts = max_attempts
        self._backoff = backoff_seconds
        self._backoff_max = backoff_max_seconds
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the connection pool (must run inside the event loop)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def backoff_delay(self, attempt: int) -> float:
        """Full-jitter exponential backoff before attempt `attempt + 1` (attempt counts from 0)."""
        ceiling = min(self._backoff_max, self._backoff * 2**attempt)
        return self._rng.uniform(0, ceiling)

    async def score(self, merchant: str) -> LookupResult:
        """Fetch one merchant's score; never raises."""
        with MERCHANT_LOOKUP_DURATION.time():
            return await self._score(merchant)

    async def _score(self, merchant: str) -> LookupResult:
        await self.start()
        last_error = "no attempt made"
        for attempt in range(self._max_attempts):
            if attempt:
                MERCHANT_RETRIES.inc()
                await self._sleep(self.backoff_delay(attempt - 1))
            try:
                value = await self._attempt(merchant)
                MERCHANT_ATTEMPTS.labels("ok").inc()
                return LookupResult(score=value, attempts=attempt + 1)
            except _Permanent as err:
                MERCHANT_ATTEMPTS.labels("rejected").inc()
                log.warning("merchant-service rejected the lookup", extra={"merchant": merchant, "error": str(err)})
                return LookupResult(score=None, attempts=attempt + 1, error=str(err))
            except _Transient as err:
                last_error = str(err)
                log.info(
                    "merchant-service attempt failed",
                    extra={"merchant": merchant, "attempt": attempt + 1, "error": last_error},
                )
        return LookupResult(score=None, attempts=self._max_attempts, error=last_error)

    async def _attempt(self, merchant: str) -> float:
        """One HTTP attempt, in a client span of its own when tracing is on and the trace sampled."""
        if not tracing.spans_wanted():
            return await self._request(merchant, tracing.headers_with_trace())
        with TRACER.start_as_current_span(
            "merchant-service lookup",
            kind=trace.SpanKind.CLIENT,
            attributes={"merchant": merchant, "http.request.method": "GET"},
        ) as span:
            try:
                return await self._request(merchant, tracing.headers_with_trace())
            except (_Transient, _Permanent) as failure:
                span.set_status(trace.StatusCode.ERROR, str(failure))
                raise

    async def _request(self, merchant: str, headers: dict[str, str]) -> float:
        assert self._session is not None
        url = f"{self._base_url}/merchants/{quote(merchant, safe='')}/score"
        try:
            async with self._session.get(url, timeout=self._timeout, headers=headers) as response:
                body = await response.read()
                status = response.status
        except TimeoutError:
            MERCHANT_ATTEMPTS.labels("timeout").inc()
            raise _Transient("timeout") from None
        except aiohttp.ClientError as err:
            MERCHANT_ATTEMPTS.labels("connection_error").inc()
            raise _Transient(f"connection error: {err}") from None
        if 400 <= status < 500:
            raise _Permanent(f"HTTP {status}")
        if status != 200:
            MERCHANT_ATTEMPTS.labels("server_error").inc()
            raise _Transient(f"HTTP {status}")
        return self._parse(body)

    @staticmethod
    def _parse(body: bytes) -> float:
        try:
            value = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            MERCHANT_ATTEMPTS.labels("bad_response").inc()
            raise _Transient("response is not JSON") from None
        score = value.get("score") if isinstance(value, dict) else None
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 100:
            MERCHANT_ATTEMPTS.labels("bad_response").inc()
            raise _Transient("response has no score in 0..100")
        return float(score)
