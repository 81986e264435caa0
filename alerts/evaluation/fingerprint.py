"""Stable alert identity: one fingerprint per (rule, scope, subject).

The level is deliberately not part of it: 黄 → 橙 is the same alert changing level, not a new one.
The fingerprint is the same on every replica and across restarts, so it can key the store.
"""

from __future__ import annotations

import hashlib

import polars as pl

_SEPARATOR = "\x1f"  # unit separator: cannot appear in a rule id, scope or hub id by accident


def fingerprint(rule: str, scope: str, subject: str) -> str:
    """16 hex characters of SHA-256 over ``rule``, ``scope`` and ``subject``."""
    key = _SEPARATOR.join((rule, scope, subject)).encode("utf-8")
    return hashlib.sha256(key).hexdigest()[:16]


def fingerprint_column(frame: pl.DataFrame) -> pl.Series:
    """The fingerprint of each row of a frame with ``rule``, ``scope`` and ``subject`` columns."""
    keys = frame.select(
        pl.concat_str(
            [pl.col("rule").cast(pl.String), pl.col("scope").cast(pl.String), pl.col("subject")],
            separator=_SEPARATOR,
        )
    ).to_series()
    digests = [hashlib.sha256(key.encode("utf-8")).hexdigest()[:16] for key in keys]
    return pl.Series("fingerprint", digests, dtype=pl.String)
