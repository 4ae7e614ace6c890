"""The merchant risk score: what merchant-service answers for a merchant, and what every other part may rely on.

The score must be the same for a merchant in every process, replica and restart, otherwise the fraud
functions' decisions would not be reproducible; the simulator's smoke check picks a merchant it knows
will score high. Python's `hash()` is salted per process, so the score comes from SHA-256 of the UTF-8 name.
"""

from __future__ import annotations

import hashlib

MAX_SCORE = 100


def risk_score(merchant: str) -> int:
    """Risk score of a merchant, 0 (safe) to 100 (risky), stable and roughly uniform.

    64 bits of the digest modulo 101: the modulo bias is below 1e-17, far
    under anything a test or a model could notice.
    """
    digest = hashlib.sha256(merchant.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % (MAX_SCORE + 1)
