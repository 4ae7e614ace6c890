"""The risk score: stable across processes, bounded, spread out; the name check."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter

import pytest

from merchant_service.scoring import InvalidMerchant, risk_score, validate_merchant

NAMES = [f"Merchant {i}" for i in range(5000)]


def test_score_matches_sha256_definition() -> None:
    expected = int.from_bytes(hashlib.sha256(b"Hypergrid").digest()[:8], "big") % 101
    assert risk_score("Hypergrid") == expected


def test_score_is_stable_across_processes_with_different_hash_seeds() -> None:
    code = "from merchant_service.scoring import risk_score; print([risk_score(n) for n in ('Hypergrid', 'Acme', 'x')])"
    outputs = set()
    for seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        outputs.add(result.stdout.strip())
    assert outputs == {str([risk_score("Hypergrid"), risk_score("Acme"), risk_score("x")])}


def test_scores_are_ints_within_bounds() -> None:
    scores = [risk_score(name) for name in NAMES]
    assert all(isinstance(score, int) and 0 <= score <= 100 for score in scores)


def test_scores_are_roughly_uniform() -> None:
    scores = [risk_score(name) for name in NAMES]
    assert len(set(scores)) >= 95  # almost every value 0..100 is reached
    assert 45 <= sum(scores) / len(scores) <= 55
    deciles = Counter(min(score // 10, 9) for score in scores)
    # Each of the ten bands holds ~10% (the top band 11/101); none is starved or swollen.
    assert all(0.07 * len(scores) <= deciles[band] <= 0.14 * len(scores) for band in range(10))


@pytest.mark.parametrize("name", ["Hypergrid", "A", "O'Brien & Sons", "shop-1_2.b", "x" * 128])
def test_valid_names_pass(name: str) -> None:
    assert validate_merchant(name) == name


@pytest.mark.parametrize(
    "name",
    ["", " Acme", "-Acme", "a/b", "a\x00b", "a\nb", "Acme\n", "x" * 129, "café", "a\tb"],
)
def test_invalid_names_are_rejected(name: str) -> None:
    with pytest.raises(InvalidMerchant):
        validate_merchant(name)
