"""The token bucket, on a fake clock: no real time passes in these tests."""

import pytest

from fraud_simulator.rate_limiter import TokenBucket

from .fakes import FakeClock


async def test_burst_is_available_immediately_then_rate_applies():
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=5, clock=clock, sleep=clock.sleep)
    start = clock.now
    for _ in range(5):
        await bucket.acquire()
    assert clock.now == start  # the burst needed no waiting
    await bucket.acquire()
    assert clock.now - start == pytest.approx(0.1)


async def test_long_run_rate_is_exact_without_drift():
    clock = FakeClock()
    bucket = TokenBucket(rate=7, burst=3, clock=clock, sleep=clock.sleep)
    start = clock.now
    for _ in range(7003):
        await bucket.acquire()
    # 3 free (burst) then 7000 at 7/s: exactly 1000 s, no accumulated error.
    assert clock.now - start == pytest.approx(1000.0, abs=1e-6)


async def test_time_spent_elsewhere_counts_towards_the_next_tokens():
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=1, clock=clock, sleep=clock.sleep)
    await bucket.acquire()
    clock.advance(0.06)  # e.g. the send itself took 60 ms
    await bucket.acquire()
    assert clock.sleeps == [pytest.approx(0.04)]  # sleeps only the remainder, not 1/rate


async def test_idle_time_refills_only_up_to_the_burst():
    clock = FakeClock()
    bucket = TokenBucket(rate=100, burst=4, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        await bucket.acquire()
    clock.advance(3600)
    assert bucket.tokens == pytest.approx(4)
    granted = sum(bucket.try_acquire() for _ in range(10))
    assert granted == 4


async def test_try_acquire_does_not_wait():
    clock = FakeClock()
    bucket = TokenBucket(rate=1, burst=1, clock=clock, sleep=clock.sleep)
    assert bucket.try_acquire() is True
    assert bucket.try_acquire() is False
    assert clock.sleeps == []


def test_invalid_parameters_are_rejected():
    with pytest.raises(ValueError):
        TokenBucket(rate=0)
    with pytest.raises(ValueError):
        TokenBucket(rate=1, burst=0.5)
