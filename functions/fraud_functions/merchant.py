"""fraud/merchant: one instance per merchant, a cached view of merchant-service.

A query is answered from the cached score when it is fresh (an hour by
default; a cached score of 0 is a hit like any other), otherwise merchant-service
is asked asynchronously, with timeouts and bounded retries, and the reply goes
to the caller after the wait. When merchant-service cannot answer, the reply
carries a neutral fallback score flagged `degraded`, and that fallback is cached
briefly, so a batch of queued queries for the same merchant costs one lookup,
not one per transaction (which could outlast the runtime's call timeout).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from statefun import Context, Message, ValueSpec, make_json_type

from fraud_functions.addresses import MERCHANT
from fraud_functions.merchant_client import MerchantScoreClient
from fraud_functions.messages import MerchantScore, QueryMerchant
from fraud_functions.metrics import MERCHANT_LOOKUPS
from fraud_functions.outcomes import read_request, reply_to_caller

log = logging.getLogger(__name__)

CACHED_SCORE_TYPE = make_json_type("fraud.state/CachedMerchantScore")


def state_specs(cache_ttl_seconds: int) -> list[ValueSpec]:
    """The cached score; the runtime drops it `cache_ttl_seconds` after it was written."""
    return [ValueSpec(name="cached", type=CACHED_SCORE_TYPE, expire_after_write=timedelta(seconds=cache_ttl_seconds))]


class MerchantScorer:
    def __init__(
        self,
        client: MerchantScoreClient,
        cache_ttl_seconds: int,
        degraded_ttl_seconds: int,
        fallback_score: float,
        clock_ms=lambda: int(time.time() * 1000),
    ) -> None:
        self._client = client
        self._cache_ttl_ms = cache_ttl_seconds * 1000
        self._degraded_ttl_ms = degraded_ttl_seconds * 1000
        self._fallback = fallback_score
        self._clock_ms = clock_ms

    async def __call__(self, context: Context, message: Message) -> None:
        query = read_request(MERCHANT, context, message, QueryMerchant)
        if query is None:
            return
        score, degraded, source = await self._score(context, query.transaction_id)
        MERCHANT_LOOKUPS.labels(source).inc()
        reply_to_caller(context, MerchantScore(transaction_id=query.transaction_id, merchant=context.address.id,
                                               score=score, degraded=degraded, source=source))

    async def _score(self, context: Context, transaction_id: str) -> tuple[float, bool, str]:
        cached = self._fresh(context.storage.cached)
        if cached is not None:
            return cached["score"], cached["degraded"], "cache"
        merchant = context.address.id
        result = await self._client.score(merchant)
        degraded = result.score is None
        score = self._fallback if degraded else result.score
        context.storage.cached = {"score": score, "degraded": degraded, "fetched_at_ms": self._clock_ms()}
        if degraded:
            log.warning("merchant-service unavailable; using the fallback score",
                        extra={"merchant": merchant, "transaction_id": transaction_id,
                               "attempts": result.attempts, "error": result.error})
            return score, True, "fallback"
        return score, False, "service"

    def _fresh(self, cached: dict[str, Any] | None) -> dict[str, Any] | None:
        """The cached entry if it is still within its TTL (shorter for a degraded fallback)."""
        if not isinstance(cached, dict) or "score" not in cached or "fetched_at_ms" not in cached:
            return None
        ttl = self._degraded_ttl_ms if cached.get("degraded") else self._cache_ttl_ms
        if self._clock_ms() - cached["fetched_at_ms"] >= ttl:
            return None
        return cached
