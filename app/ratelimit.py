"""Token buckets per API key: a carrier may post ``rate`` events a second, in bursts of 2 s.

Pure: the caller passes the monotonic time in.
"""

from __future__ import annotations

from dataclasses import dataclass

BURST_S = 2.0


@dataclass
class TokenBucket:
    """``rate_per_s`` tokens a second, holding at most ``rate_per_s * BURST_S``."""

    rate_per_s: float
    tokens: float
    updated_at: float

    def take(self, cost: float, now: float) -> float:
        """Take ``cost`` tokens; 0.0 when granted, else the seconds to wait before retrying."""
        capacity = self.rate_per_s * BURST_S
        self.tokens = min(capacity, self.tokens + (now - self.updated_at) * self.rate_per_s)
        self.updated_at = now
        if cost > capacity:
            cost = capacity  # a batch larger than the burst is allowed once the bucket is full
        if self.tokens >= cost:
            self.tokens -= cost
            return 0.0
        return (cost - self.tokens) / self.rate_per_s


class RateLimiter:
    """One bucket per key; the rate comes from the carrier's setting, or the default."""

    def __init__(self, rates_per_s: dict[str, float], default_rate_per_s: float) -> None:
        self.rates_per_s = rates_per_s
        self.default_rate_per_s = rates_per_s.get("*", default_rate_per_s)
        self.buckets: dict[str, TokenBucket] = {}

    def take(self, key_id: str, carrier: str | None, cost: float, now: float) -> float:
        """0.0 when the caller may proceed, else the seconds it should wait (Retry-After)."""
        bucket = self.buckets.get(key_id)
        if bucket is None:
            rate = self.rates_per_s.get(carrier or "", self.default_rate_per_s)
            bucket = TokenBucket(rate, rate * BURST_S, now)
            self.buckets[key_id] = bucket
        return bucket.take(cost, now)
