"""Token buckets: a carrier gets its rate, in bursts of 2 s, and is told how long to wait; all of
a carrier's keys share that one rate."""

from __future__ import annotations

import pytest

from app.api.deps import Principal
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
    assert limiter.take("ZTO", 20, now=0.0) == 0.0
    assert limiter.take("ZTO", 1, now=0.0) == pytest.approx(0.1)
    assert limiter.take("YTO", 200, now=0.0) == 0.0  # the '*' default, not 5/s
    assert limiter.take("admin", 1, now=0.0) == 0.0


def test_every_key_of_a_carrier_spends_the_carriers_rate() -> None:
    keys = [Principal(key_id=f"k{i}", role="carrier", carrier="ZTO") for i in range(10)]
    limiter = RateLimiter({"ZTO": 10.0}, default_rate_per_s=1000.0)
    waits = [limiter.take(key.rate_subject, 2, now=0.0) for key in keys]
    assert waits == [0.0] * 10  # ten keys, one bucket of 20 (2 s of 10/s)
    assert limiter.take(keys[0].rate_subject, 1, now=0.0) > 0
    assert len(limiter.buckets) == 1


def test_keys_without_a_carrier_are_limited_per_role() -> None:
    admins = [Principal(key_id=f"a{i}", role="admin") for i in range(3)]
    assert {admin.rate_subject for admin in admins} == {"admin"}
    assert Principal(key_id="z", role="carrier", carrier="ZTO").rate_subject == "ZTO"
