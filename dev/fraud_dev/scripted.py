"""Inputs for the in-process runtime (mini_runtime.py): records as the tolerant Kafka ingress delivers them,
the feature queries transaction-manager sends, and a merchant client that answers from a script.

The unit tests of the functions and the benchmark of in-process dispatch both drive the real functions
with these, so both see the same bytes.
"""

from __future__ import annotations

import json

from fraud_common.contract import CONFIRM_FRAUD_RECORD, TRANSACTION_RECORD
from fraud_dev.ingress_records import ingress_record
from fraud_dev.mini_runtime import Envelope
from fraud_functions.addresses import TRANSACTION_MANAGER
from fraud_functions.declarations import ACCOUNT
from fraud_functions.merchant_service_client import LookupResult
from fraud_functions.messages import FeatureQuery


class ScriptedMerchantClient:
    """Answers lookups from a dict; a missing merchant is an outage (score None)."""

    def __init__(self, scores: dict[str, float] | None = None) -> None:
        self.scores = dict(scores or {})
        self.calls: list[str] = []

    async def score(self, merchant: str) -> LookupResult:
        self.calls.append(merchant)
        if merchant in self.scores:
            return LookupResult(score=self.scores[merchant], attempts=1)
        return LookupResult(score=None, attempts=3, error="timeout")

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class _NoValue:
    """The marker of a record without a value (a tombstone)."""


NO_VALUE = _NoValue()


def transaction(
    tx_id: str | bytes | None,
    account: str = "0x00F3CD51",
    merchant: str = "Hypergrid",
    amount=950,
    timestamp: str = "2026-11-27T10:00:00",
    raw: bytes | _NoValue | None = None,
) -> Envelope:
    """A `transactions` record (key = tx_id; None: no key) as the tolerant Kafka ingress delivers it.

    `raw` replaces the value (NO_VALUE: a tombstone).
    """
    value = (
        None
        if isinstance(raw, _NoValue)
        else raw
        if raw is not None
        else json.dumps({"account": account, "merchant": merchant, "amount": amount, "timestamp": timestamp}).encode()
    )
    key = tx_id.encode() if isinstance(tx_id, str) else tx_id
    address, payload = ingress_record("transactions", key, value)
    return Envelope(TRANSACTION_MANAGER, address, TRANSACTION_RECORD, payload)


def confirmation(account: str | bytes | None, raw: bytes | _NoValue | None = None) -> Envelope:
    """A `confirmed` record (key = account) as the tolerant Kafka ingress delivers it."""
    value = None if isinstance(raw, _NoValue) else raw if raw is not None else json.dumps({"account": account}).encode()
    key = account.encode() if isinstance(account, str) else account
    address, payload = ingress_record("confirmed", key, value)
    return Envelope(ACCOUNT.typename, address, CONFIRM_FRAUD_RECORD, payload)


def feature_query(
    target: str,
    address_id: str,
    tx_id: str = "t1",
    account: str = "0x00F3CD51",
    merchant: str = "Hypergrid",
    amount: float = 950,
    route: tuple[str, ...] = (),
) -> Envelope:
    """A FeatureQuery as transaction-manager sends it (`route`: the keys after this one; none: answer back)."""
    query = FeatureQuery(tx_id, account, merchant, amount, "2026-11-27T10:00:00", list(route))
    return Envelope(
        target,
        address_id,
        FeatureQuery.TYPENAME,
        json.dumps(query.to_dict()).encode(),
        caller=(TRANSACTION_MANAGER, tx_id),
    )
