"""The merchant's risk score: a cached view of merchant-service per merchant (fraud/merchant), a feature of every
transaction.

A query is answered from the cached score when it is fresh (an hour by
default; a cached score of 0 is a hit like any other), otherwise merchant-service
is asked asynchronously, with timeouts and bounded retries, and the answer goes
to the caller after the wait. When merchant-service cannot answer, the answer
carries a neutral fallback score flagged `degraded`, and that fallback is cached
briefly, so a batch of queued queries for the same merchant costs one lookup,
not one per transaction (which could outlast the runtime's call timeout).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from statefun import Message, ValueSpec, make_json_type

from fraud_functions.declarations import MERCHANT, Resources, feature
from fraud_functions.keys import Answered
from fraud_functions.message_context import MessageContext
from fraud_functions.messages import FeatureQuery
from fraud_functions.metrics import MERCHANT_LOOKUPS

log = logging.getLogger(__name__)

MERCHANT_RISK = "merchant"
CACHED_SCORE_TYPE = make_json_type("fraud.state/CachedMerchantScore")


@feature(
    name=MERCHANT_RISK,
    key=MERCHANT,
    summary="merchant-service's risk score of a merchant, cached (MERCHANT_CACHE_TTL_SECONDS), with a degraded "
    "fallback when the service cannot answer",
    provides=("score",),
    fallback=lambda settings: {"score": settings.merchant_fallback_score},
    # The runtime drops the cached score this long after it was written.
    state=lambda settings: [
        ValueSpec(
            name="cached",
            type=CACHED_SCORE_TYPE,
            expire_after_write=timedelta(seconds=settings.merchant_cache_ttl_seconds),
        )
    ],
)
class MerchantRisk:
    def __init__(self, resources: Resources, clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        settings = resources.settings
        self._client = resources.merchant_client
        self._cache_ttl_ms = settings.merchant_cache_ttl_seconds * 1000
        self._degraded_ttl_ms = settings.merchant_degraded_ttl_seconds * 1000
        self._fallback = settings.merchant_fallback_score
        self._clock_ms = clock_ms

    async def answer(self, context: MessageContext, query: FeatureQuery) -> Answered:
        score, degraded = await self._score(context, query.transaction_id)
        return Answered({"score": score}, degraded)

    async def __call__(self, context: MessageContext, message: Message) -> None:
        raise AssertionError("the merchant's risk score takes no message but the query")  # takes=() above

    async def _score(self, context: MessageContext, transaction_id: str) -> tuple[float, bool]:
        """(score, degraded): from the cache, from merchant-service, or the fallback."""
        cached = self._fresh(context.storage.cached)
        if cached is not None:
            MERCHANT_LOOKUPS.labels("cache").inc()
            return cached["score"], cached["degraded"]
        merchant = context.address.id
        result = await self._client.score(merchant)
        degraded = result.score is None
        score = self._fallback if result.score is None else result.score
        context.storage.cached = {"score": score, "degraded": degraded, "fetched_at_ms": self._clock_ms()}
        MERCHANT_LOOKUPS.labels("fallback" if degraded else "service").inc()
        if degraded:
            log.warning(
                "merchant-service unavailable; using the fallback score",
                extra={
                    "merchant": merchant,
                    "transaction_id": transaction_id,
                    "attempts": result.attempts,
                    "error": result.error,
                },
            )
        return score, degraded

    def _fresh(self, cached: dict[str, Any] | None) -> dict[str, Any] | None:
        """The cached entry if it is still within its TTL (shorter for a degraded fallback)."""
        if not isinstance(cached, dict) or "score" not in cached or "fetched_at_ms" not in cached:
            return None
        ttl = self._degraded_ttl_ms if cached.get("degraded") else self._cache_ttl_ms
        if self._clock_ms() - cached["fetched_at_ms"] >= ttl:
            return None
        return cached
