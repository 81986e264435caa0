"""Window sums: moved on minute by minute they equal the sums taken afresh."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from core.state import BUCKET_SCHEMA
from core.windows import Spans, WindowSums, sums

SPANS: Spans = (("15", 15), ("30", 30))


def _buckets(rows: list[tuple[str, int, int, int]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=BUCKET_SCHEMA, orient="row")
    return frame.unique(["hub_id", "minute"], keep="first").sort("minute")


def _fresh(buckets: pl.DataFrame, end: int) -> pl.DataFrame:
    return sums(buckets, end, SPANS, cached=None, first_kept_minute=None).frame


def _same(left: pl.DataFrame, right: pl.DataFrame) -> None:
    """Equal sums; a hub whose windows are all empty may be a row of zeros or no row."""
    columns = [c for c in left.columns if c != "hub_id"]
    nonzero = pl.any_horizontal(pl.col(columns) != 0)
    assert_frame_equal(
        left.filter(nonzero).sort("hub_id"), right.filter(nonzero).sort("hub_id"), check_dtypes=True
    )


def test_fresh_sums_count_parcels_and_minutes_in_each_window() -> None:
    buckets = _buckets([("A", 0, 5, 1), ("A", 20, 7, 2), ("A", 29, 1, 0), ("B", 30, 9, 9)])
    expected = pl.DataFrame(
        {
            "hub_id": ["A"],
            "arrivals_15": [8],
            "departures_15": [2],
            "minutes_15": [2],
            "arrivals_30": [13],
            "departures_30": [3],
            "minutes_30": [3],
        },
        schema_overrides={"hub_id": BUCKET_SCHEMA["hub_id"]},
    )
    # the windows end before minute 30 (B's minute is not in them); the 30-min one starts at 0
    assert_frame_equal(_fresh(buckets, 30), expected)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C"]),
            st.integers(0, 90),
            st.integers(0, 50),
            st.integers(0, 50),
        ),
        max_size=120,
    ),
    steps=st.lists(st.integers(0, 40), min_size=1, max_size=8),
)
def test_moving_the_windows_on_equals_summing_afresh(
    rows: list[tuple[str, int, int, int]], steps: list[int]
) -> None:
    buckets = _buckets(rows)
    end = 20
    cached: WindowSums | None = None
    for step in steps:
        end += step
        cached = sums(buckets, end, SPANS, cached=cached, first_kept_minute=None)
        assert cached.end_minute == end
        _same(cached.frame, _fresh(buckets, end))


def test_a_cache_reaching_back_before_the_pruned_buckets_is_not_used() -> None:
    buckets = _buckets([("A", 10, 5, 0), ("A", 40, 1, 0)])
    cached = sums(buckets, 41, SPANS, cached=None, first_kept_minute=None)
    pruned = buckets.filter(pl.col("minute") >= 12)  # minute 10 is gone, but the cache has it
    moved = sums(pruned, 42, SPANS, cached=cached, first_kept_minute=12)
    _same(moved.frame, _fresh(pruned, 42))
