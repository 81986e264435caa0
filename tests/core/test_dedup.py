"""DedupIndex: ``(carrier, event_id)`` seen once, per event-time minute, over a bounded horizon."""

from __future__ import annotations

from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

from core.dedup import DedupIndex
from tests.core.factories import T0_MS, event, store_events


def _split(index: DedupIndex, rows: list[dict[str, Any]]) -> tuple[list[str], int]:
    kept, duplicates = index.split(store_events(rows))
    return kept["event_id"].to_list(), duplicates


def test_repeats_within_a_batch_and_across_batches_are_dropped_and_counted() -> None:
    index = DedupIndex()
    first = [event("A", "arrival", 1, 0, event_id=e) for e in ("e1", "e2", "e1")]
    assert _split(index, first) == (["e1", "e2"], 1)
    again = [event("A", "arrival", 1, 0, event_id=e) for e in ("e2", "e3")]
    assert _split(index, again) == (["e3"], 1)


def test_the_first_copy_wins_and_the_rest_of_the_row_is_kept_untouched() -> None:
    index = DedupIndex()
    rows = [event("A", "arrival", 5, 0, event_id="e1"), event("A", "arrival", 9, 0, event_id="e1")]
    kept, duplicates = index.split(store_events(rows))
    assert duplicates == 1
    assert_frame_equal(kept, store_events(rows[:1]))


def test_the_key_is_carrier_and_event_id() -> None:
    index = DedupIndex()
    rows = [
        event("A", "arrival", 1, 0, event_id="e1", carrier="ZTO"),
        event("B", "arrival", 1, 0, event_id="e1", carrier="YTO"),
        # the separator keeps ("ZT", "Oe1") apart from ("ZTO", "e1")
        event("C", "arrival", 1, 0, event_id="Oe1", carrier="ZT"),
    ]
    assert _split(index, rows) == (["e1", "e1", "Oe1"], 0)


def test_a_resent_event_is_matched_within_its_own_event_time_minute_only() -> None:
    index = DedupIndex()
    _split(index, [event("A", "arrival", 1, 0.5, event_id="e1")])
    assert _split(index, [event("A", "arrival", 1, 0.9, event_id="e1")]) == ([], 1)
    # the same id re-stamped into another minute is taken as a new event (documented choice)
    assert _split(index, [event("A", "arrival", 1, 1.1, event_id="e1")]) == (["e1"], 0)


def test_pruned_minutes_are_forgotten() -> None:
    index = DedupIndex()
    _split(index, [event("A", "arrival", 1, 0, event_id="e1")])
    _split(index, [event("A", "arrival", 1, 1, event_id="e2")])
    index.prune(T0_MS // 60_000 + 1)
    assert sorted(index.minutes) == [T0_MS // 60_000 + 1]
    assert _split(index, [event("A", "arrival", 1, 0, event_id="e1")]) == (["e1"], 0)
    assert _split(index, [event("A", "arrival", 1, 1, event_id="e2")]) == ([], 1)


def test_dropping_partitions_forgets_only_their_keys() -> None:
    index = DedupIndex()
    _split(
        index,
        [
            event("A", "arrival", 1, 0, event_id="e1", partition=0),
            event("B", "arrival", 1, 0, event_id="e2", partition=1),
            event("B", "arrival", 1, 2, event_id="e3", partition=1),
        ],
    )
    index.drop_partitions({1})
    assert sorted(index.minutes) == [T0_MS // 60_000]
    rows = [
        event("A", "arrival", 1, 0, event_id="e1", partition=0),
        event("B", "arrival", 1, 0, event_id="e2", partition=1),
        event("B", "arrival", 1, 2, event_id="e3", partition=1),
    ]
    assert _split(index, rows) == (["e2", "e3"], 1)


def test_frame_and_load_carry_the_keys_of_some_partitions() -> None:
    index = DedupIndex()
    rows = [
        event("A", "arrival", 1, 0, event_id="e1", partition=0),
        event("B", "arrival", 1, 3, event_id="e2", partition=1),
    ]
    _split(index, rows)
    assert index.frame().height == 2
    restored = DedupIndex()
    restored.load(index.frame({1}))
    assert _split(restored, rows) == (["e1"], 1)


def test_an_empty_batch_and_an_empty_index() -> None:
    index = DedupIndex()
    kept, duplicates = index.split(store_events([]))
    assert (kept.height, duplicates) == (0, 0)
    assert index.frame().schema == pl.Schema(
        {"key": pl.UInt64(), "partition": pl.Int32(), "minute": pl.Int64()}
    )
