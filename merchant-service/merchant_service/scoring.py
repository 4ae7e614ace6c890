"""The merchant risk score and the merchant-name check.

The score must be the same for a merchant in every process, replica and restart,
otherwise the fraud functions' decisions would not be reproducible. Python's
`hash()` is salted per process, so the score comes from SHA-256 of the UTF-8 name.
"""

from __future__ import annotations

import hashlib

from fraud_common.contract import MERCHANT_NAME

MAX_SCORE = 100


class InvalidMerchant(ValueError):
    """The merchant name breaks the platform contract (fraud_common.contract.MERCHANT_NAME)."""


def validate_merchant(name: str) -> str:
    """Return `name` if it is a valid merchant name, else raise InvalidMerchant.

    `fullmatch` rather than `match`: the contract's pattern ends in `$`, which
    `match` would also accept before a trailing newline.
    """
    if name == "":
        raise InvalidMerchant("merchant name is empty")
    if MERCHANT_NAME.fullmatch(name) is None:
        shown = name if len(name) <= 64 else name[:64] + "..."
        raise InvalidMerchant(
            f"invalid merchant name {shown!r} ({len(name)} characters): expected 1 to 128 characters, "
            "letters, digits, space and _ . & ' -, starting with a letter or digit"
        )
    return name


def risk_score(merchant: str) -> int:
    """Risk score of a merchant, 0 (safe) to 100 (risky), stable and roughly uniform.

    64 bits of the digest modulo 101: the modulo bias is below 1e-17, far
    under anything a test or a model could notice.
    """
    digest = hashlib.sha256(merchant.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % (MAX_SCORE + 1)
