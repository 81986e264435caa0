"""Token buckets: a carrier gets its rate, in bursts of 2 s, and is told how long to wait."""

from __future__ import annotations

import pytest

from app.ratelimit import RateLimiter, TokenBucket


def test_a_full_bucket_grants_a_burst_then_asks_to_wait() -> None:
    bucket = TokenBucket(rate_per_s=1000, tokens=2000, updated_at=0.0)
    assert bucket.take(2000, now=0.0) == 0.0
    assert bucket.take(500, now=0.0) == pytest.approx(0.5)
    assert bucket.take(500, now=0.5) == 0.0  # refilled 500 tokens in 0.5 s


def test_a_batch_larger_than_the_burst_passes_once_the_bucket_is_full() -> None:
    bucket = TokenBucket(rate_per_s=10, tokens=20, updated_at=0.0)
    assert bucket.take(1000, now=0.0) == 0.0
    assert bucket.take(1, now=0.0) > 0


def test_rates_per_carrier_with_a_default() -> None:
    limiter = RateLimiter({"ZTO": 10.0, "*": 100.0}, default_rate_per_s=5.0)
    assert limiter.take("k1", "ZTO", 20, now=0.0) == 0.0
    assert limiter.take("k1", "ZTO", 1, now=0.0) == pytest.approx(0.1)
    assert limiter.take("k2", "YTO", 200, now=0.0) == 0.0  # the '*' default, not 5/s
    assert limiter.take("k3", None, 1, now=0.0) == 0.0
