"""Per-hub sums over sliding windows of whole minutes, kept up to date as the watermark moves.

The windows end at the watermark's minute. Moving them on by a minute adds the minute that
enters and subtracts the minutes that leave (a few thousand rows) instead of summing every minute
of every window again (hundreds of thousands at 5,000 hubs). A change to a minute already inside
the windows (a late event), a jump longer than the windows or a pruned minute starts again from
the buckets.

    sums(buckets, end_minute, spans, cached=)  -> WindowSums
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

Spans = tuple[tuple[str, int], ...]
"""(name, minutes) of each window: columns ``arrivals_<name>``, ``departures_<name>``,
``minutes_<name>`` (minutes with a bucket)."""


@dataclass(frozen=True)
class WindowSums:
    """The sums of every window ending (exclusive) at ``end_minute``, one row per hub."""

    spans: Spans
    end_minute: int
    frame: pl.DataFrame


def _slice(buckets: pl.DataFrame, first: int, end: int) -> pl.DataFrame:
    minute = buckets["minute"]
    start = int(minute.search_sorted(first, side="left"))
    stop = int(minute.search_sorted(end, side="left"))
    return buckets.slice(start, max(0, stop - start))


def _signed(rows: pl.DataFrame, spans: Spans, sign: int, only: str | None) -> pl.LazyFrame:
    """Each row's contribution to the windows: to all of them, or to window ``only``."""
    columns = []
    for name, _ in spans:
        inside = only is None or name == only
        for kind in ("arrivals", "departures"):
            value = pl.col(kind) * sign if inside else pl.lit(0, pl.Int64)
            columns.append(value.alias(f"{kind}_{name}"))
        columns.append(pl.lit(sign if inside else 0, pl.Int64).alias(f"minutes_{name}"))
    return rows.lazy().select("hub_id", *columns)


def _sum(parts: list[pl.LazyFrame]) -> pl.LazyFrame:
    return pl.concat(parts).group_by("hub_id").agg(pl.all().sum())


def sums(
    buckets: pl.DataFrame,
    end_minute: int,
    spans: Spans,
    *,
    cached: WindowSums | None,
    first_kept_minute: int | None,
) -> WindowSums:
    """The window sums at ``end_minute``; from ``cached`` when it is still valid (the caller
    drops it when a minute before its ``end_minute`` changes), else from ``buckets`` (sorted by
    minute). ``first_kept_minute``: buckets before it are pruned."""
    longest = max(minutes for _, minutes in spans)
    if (
        cached is None
        or cached.spans != spans
        or not 0 <= end_minute - cached.end_minute <= longest
        or (first_kept_minute is not None and cached.end_minute - longest < first_kept_minute)
    ):
        rows = _slice(buckets, end_minute - longest, end_minute).lazy()
        columns = []
        for name, minutes in spans:
            inside = pl.col("minute") >= end_minute - minutes
            for kind in ("arrivals", "departures"):
                columns.append(
                    pl.when(inside).then(pl.col(kind)).otherwise(0).alias(f"{kind}_{name}")
                )
            columns.append(inside.cast(pl.Int64).alias(f"minutes_{name}"))
        return WindowSums(spans, end_minute, _sum([rows.select("hub_id", *columns)]).collect())
    if end_minute == cached.end_minute:
        return cached
    entering = _slice(buckets, cached.end_minute, end_minute)
    parts = [_signed(entering, spans, 1, None), cached.frame.lazy()]
    for name, minutes in spans:
        leaving = _slice(buckets, cached.end_minute - minutes, end_minute - minutes)
        parts.append(_signed(leaving, spans, -1, name))
    return WindowSums(spans, end_minute, _sum(parts).collect())
