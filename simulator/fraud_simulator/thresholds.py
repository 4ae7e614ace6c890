"""Per-account alert thresholds, as the workshop's traffic generator sends them.

Now and then, after a transaction, its account's holder sets their own alert
threshold: a `thresholds` record keyed by the account, `{"account", "threshold"}`.
The contract accepts 1..100; the simulator draws 60..95, since a card holder who
wants an alert on nearly every payment is rare and would flood the demo.
"""

from __future__ import annotations

import random

from fraud_common.contract import encode

THRESHOLD_DRAW = (60, 95)


class ThresholdPolicy:
    """Decides, per transaction, whether its account sets a new threshold (seeded: a seeded run repeats)."""

    def __init__(self, share: float, rng: random.Random) -> None:
        if not 0.0 <= share <= 1.0:
            raise ValueError("share must be between 0 and 1")
        self.share = share
        self._rng = rng

    def record_for(self, account: str) -> tuple[bytes, bytes] | None:
        """The Kafka key and value of a threshold record for this account, or None."""
        if self.share <= 0.0 or self._rng.random() >= self.share:
            return None
        threshold = self._rng.randint(*THRESHOLD_DRAW)
        return account.encode("utf-8"), encode({"account": account, "threshold": threshold})
