"""Token buckets per carrier: a carrier may post ``rate`` events a second, in bursts of 2 s.

One bucket per rate subject — a carrier code, or a role for keys of no carrier — so a carrier
with ten keys has one rate, not ten. Buckets are per process: with N replicas behind a load
balancer a carrier gets up to N times its rate. Pure: the caller passes the monotonic time in.
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
    """One bucket per subject; the rate is the subject's entry in ``rates_per_s``, or the default.

    Subjects are carrier codes (``ZTO``) or roles (``admin``); ``'*'`` in ``rates_per_s``
    replaces ``default_rate_per_s``. Their number is bounded by carriers and roles, not keys.
    """

    def __init__(self, rates_per_s: dict[str, float], default_rate_per_s: float) -> None:
        self.rates_per_s = rates_per_s
        self.default_rate_per_s = rates_per_s.get("*", default_rate_per_s)
        self.buckets: dict[str, TokenBucket] = {}

    def take(self, subject: str, cost: float, now: float) -> float:
        """0.0 when ``subject`` may proceed, else the seconds it should wait (Retry-After)."""
        bucket = self.buckets.get(subject)
        if bucket is None:
            rate = self.rates_per_s.get(subject, self.default_rate_per_s)
            bucket = TokenBucket(rate, rate * BURST_S, now)
            self.buckets[subject] = bucket
        return bucket.take(cost, now)
