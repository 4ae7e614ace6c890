"""The merchant-name check, and the score merchant-service serves (fraud_common.merchant_risk)."""

from __future__ import annotations

from fraud_common.contract import MERCHANT_NAME
from fraud_common.merchant_risk import MAX_SCORE, risk_score

__all__ = ["MAX_SCORE", "InvalidMerchant", "risk_score", "validate_merchant"]


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
