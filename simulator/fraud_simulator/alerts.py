"""Reading alerts: print them like the workshop did, and decide which to confirm.

A bad record on `alerts` must not stop a demo, so anything unreadable is
counted and logged, never raised. Confirmations close the feedback loop (a
confirmed account raises its fraud count in the pipeline) and are drawn from
the seeded RNG so a seeded run confirms the same alerts every time.
"""

from __future__ import annotations

import logging
import random
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TextIO

from fraud_common.contract import (
    WORKSHOP_FIELDS,
    ContractError,
    format_alert,
    parse_alert,
)

log = logging.getLogger(__name__)


class AlertPrinter:
    """Parses alert values and prints the workshop's line for each readable one."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out
        self.printed = 0
        self.malformed = 0

    def handle(self, raw: bytes | None) -> dict[str, Any] | None:
        """The parsed alert after printing it, or None (counted and logged) if unreadable."""
        try:
            alert = parse_alert(raw)
        except ContractError as err:
            self.malformed += 1
            log.warning("unreadable alert skipped", extra={"reason": err.reason, "detail": err.detail})
            return None
        print(format_alert(alert), file=self._out or sys.stdout, flush=True)
        self.printed += 1
        return alert


def alert_identity(alert: dict[str, Any]) -> str:
    """What makes an alert 'the same alert' when Kafka redelivers it."""
    transaction_id = alert.get("transaction_id")
    if isinstance(transaction_id, str) and transaction_id:
        return transaction_id
    # Workshop-style alerts carry no id; their four fields identify them.
    return "|".join(str(alert.get(name)) for name in WORKSHOP_FIELDS)


class ConfirmationPolicy:
    """Confirms about `share` of alerts, each alert (and so its account) at most once.

    One RNG draw per distinct alert; redelivered alerts are recognised by
    `alert_identity` in a bounded LRU set and never confirmed again. An account
    confirmed less than `cooldown_seconds` ago is not confirmed again: an analyst
    confirms a compromised card once, not on every alert it raises. Without the
    cooldown the loop feeds itself (each confirmation raises the account's
    alerts, which bring more confirmations) and the alert rate keeps climbing.
    """

    def __init__(
        self,
        share: float,
        rng: random.Random,
        remember: int = 100_000,
        cooldown_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0.0 <= share <= 1.0:
            raise ValueError("share must be between 0 and 1")
        self.share = share
        self._rng = rng
        self._remember = remember
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._confirmed_at: OrderedDict[str, float] = OrderedDict()

    def decide(self, alert: dict[str, Any]) -> str | None:
        """The account to confirm for this alert, or None."""
        identity = alert_identity(alert)
        if identity in self._seen:
            self._seen.move_to_end(identity)
            return None
        self._seen[identity] = None
        if len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        if self.share <= 0.0:
            return None
        account = alert.get("account")
        if not isinstance(account, str) or not account:
            return None
        if self._rng.random() >= self.share:
            return None
        now = self._clock()
        last = self._confirmed_at.get(account)
        if last is not None and now - last < self._cooldown:
            return None
        self._confirmed_at[account] = now
        self._confirmed_at.move_to_end(account)
        if len(self._confirmed_at) > self._remember:
            self._confirmed_at.popitem(last=False)
        return account
