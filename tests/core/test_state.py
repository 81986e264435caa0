"""HubStore: backlog reconciliation (anchors, flows after them, settling), buckets, lanes."""

from __future__ import annotations

from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

from core.state import BUCKET_SCHEMA, HubStore
from tests.core.factories import T0_MS, event, ms, store_events


def _named(frame: pl.DataFrame) -> pl.DataFrame:
    """Hub ids as strings (the store holds them as categories)."""
    return frame.with_columns(pl.col(pl.Categorical).cast(pl.String))


def _store(*batches: list[dict[str, Any]]) -> HubStore:
    store = HubStore()
    for rows in batches:
        store.apply(store_events(rows))
    store.compact(None)
    return store


def _backlog(store: HubStore) -> dict[str, int]:
    return dict(store.backlog().sort("hub_id").iter_rows())


def _settle(store: HubStore, minute: float) -> None:
    store.compact(ms(minute) // 1000)


def test_backlog_is_the_observation_plus_flows_stamped_after_it() -> None:
    store = _store(
        [
            event("A", "arrival", 40, -5),  # before the observation: already in it
            event("A", "backlog", 100, 0),
            event("A", "arrival", 30, 1),
            event("A", "departure", 10, 2),
        ]
    )
    assert_frame_equal(_named(store.backlog()), pl.DataFrame({"hub_id": ["A"], "backlog": [120]}))


def test_flows_stamped_before_the_observation_and_arriving_late_are_not_counted_twice() -> None:
    store = _store(
        [event("A", "backlog", 100, 10), event("A", "arrival", 5, 12)],
        [event("A", "arrival", 40, 5), event("A", "departure", 3, 9)],  # late, before T
    )
    assert _backlog(store) == {"A": 105}


def test_an_observation_arriving_after_later_flows_drops_the_earlier_ones() -> None:
    store = _store(
        [event("A", "arrival", 50, 8), event("A", "arrival", 5, 12)],
        [event("A", "backlog", 100, 10)],
    )
    assert _backlog(store) == {"A": 105}


def test_a_newer_observation_replaces_the_anchor_and_an_older_one_is_ignored() -> None:
    store = _store(
        [event("A", "backlog", 100, 0), event("A", "arrival", 30, 1)],
        [event("A", "backlog", 500, 5), event("A", "arrival", 5, 6)],
        [event("A", "backlog", 900, 3)],  # older than the anchor at 5: stale
    )
    assert _backlog(store) == {"A": 505}


def test_two_observations_at_the_same_instant_give_the_same_anchor_in_any_batching() -> None:
    same = [event("A", "backlog", p, 0, event_id=f"b{p}") for p in (7, 100, 9)]
    one_batch = _store(same)
    one_by_one = _store(*[[row] for row in same])
    reversed_ = _store(*[[row] for row in reversed(same)])
    # the larger count wins a tie (the safe side for an overflow monitor)
    assert _backlog(one_batch) == _backlog(one_by_one) == _backlog(reversed_) == {"A": 100}


def test_backlog_never_goes_below_zero_and_needs_no_observation() -> None:
    store = _store(
        [event("A", "backlog", 10, 0), event("A", "departure", 50, 1)],
        [event("B", "arrival", 70, 0), event("B", "departure", 20, 1)],
    )
    assert _backlog(store) == {"A": 0, "B": 50}


def test_settling_folds_flows_behind_the_watermark_without_changing_the_backlog() -> None:
    store = _store([event("A", "backlog", 100, 0), event("A", "arrival", 20, 10)])
    _settle(store, 20)
    hubs = store.hubs.select("hub_id", "anchor_ms", "settled_net", "settled_to_s")
    expected = pl.DataFrame(
        {
            "hub_id": ["A"],
            "anchor_ms": [T0_MS],
            "settled_net": [20],
            "settled_to_s": [ms(20) // 1000],
        }
    )
    assert_frame_equal(_named(hubs), expected)
    assert store.flows.height == 0
    assert _backlog(store) == {"A": 120}


def test_late_flows_behind_the_settle_point_are_folded_once() -> None:
    store = _store([event("A", "backlog", 100, 0), event("A", "arrival", 20, 10)])
    _settle(store, 20)
    store.apply(store_events([event("A", "arrival", 5, 15), event("A", "arrival", 40, -1)]))
    _settle(store, 21)
    assert _backlog(store) == {"A": 125}  # 15 after the anchor counts, -1 before it does not
    _settle(store, 22)
    assert _backlog(store) == {"A": 125}


def test_an_observation_later_than_the_lateness_is_applied_at_the_settle_point() -> None:
    store = _store([event("A", "backlog", 100, 0), event("A", "arrival", 20, 10)])
    _settle(store, 20)
    store.apply(store_events([event("A", "backlog", 300, 5), event("A", "arrival", 7, 25)]))
    store.compact(None)
    # the flows between 5 and 20 are folded and cannot be separated again: 300 is taken as the
    # backlog at the settle point (20), and only flows after it are added
    assert _backlog(store) == {"A": 307}
    assert store.hubs["anchor_ms"].to_list() == [ms(20)]


def test_buckets_count_parcels_per_hub_and_minute_and_keep_the_horizon() -> None:
    store = _store(
        [
            event("A", "arrival", 3, 0.1),
            event("A", "arrival", 4, 0.9, event_id="x"),
            event("A", "departure", 2, 1.5),
            event("A", "backlog", 99, 1.6),  # not a flow
            event("B", "arrival", 1, -200),
        ]
    )
    _settle(store, 10)
    minute = T0_MS // 60_000
    expected = pl.DataFrame(
        {
            "hub_id": ["A", "A"],
            "minute": [minute, minute + 1],
            "arrivals": [7, 0],
            "departures": [0, 2],
        },
        schema={**BUCKET_SCHEMA, "hub_id": pl.String()},
    )
    buckets = store.buckets.sort("hub_id", "minute")
    assert_frame_equal(_named(buckets), expected)  # B's minute is older than the 3 h horizon


def test_in_transit_is_departed_towards_a_hub_less_arrived_from_its_source() -> None:
    store = _store(
        [
            event("A", "departure", 100, 1, to_hub="B"),
            event("C", "departure", 10, 1, to_hub="B"),
            event("A", "departure", 40, 1, to_hub="C"),
        ],
        [
            event("B", "arrival", 30, 2, from_hub="A"),
            event("B", "arrival", 50, 2, from_hub="C"),  # more than C sent: not negative
            event("B", "arrival", 500, 2),  # a local collection, no lane
        ],
    )
    expected = pl.DataFrame({"hub_id": ["B", "C"], "in_transit_parcels": [70, 40]})
    assert_frame_equal(_named(store.in_transit()).sort("hub_id"), expected)


def test_lanes_idle_for_longer_than_the_longest_transit_are_forgotten() -> None:
    store = _store([event("A", "departure", 100, 0, to_hub="B")])
    store.compact(ms(60) // 1000, max_transit_s=3600)
    assert store.in_transit()["in_transit_parcels"].to_list() == [100]
    store.compact(ms(61) // 1000, max_transit_s=3600)
    assert store.in_transit().height == 0


def test_dropping_a_partition_forgets_its_hubs_and_their_side_of_the_lanes() -> None:
    store = _store(
        [
            event("A", "backlog", 100, 0, partition=0),
            event("A", "departure", 100, 1, to_hub="B", partition=0),
            event("B", "departure", 60, 1, to_hub="A", partition=1),
            event("B", "arrival", 30, 2, from_hub="A", partition=1),
        ]
    )
    store.drop_partitions({0})
    assert store.hubs["hub_id"].to_list() == ["B"]
    assert set(store.buckets["hub_id"]) == {"B"}
    assert set(store.flows["hub_id"]) == {"B"}
    # B's own departures towards A and arrivals from A stay; A's departures are gone with A
    lanes = store.lanes.sort("src").select("src", "dst", "departed", "arrived")
    expected = pl.DataFrame(
        {"src": ["A", "B"], "dst": ["B", "A"], "departed": [0, 60], "arrived": [30, 0]}
    )
    assert_frame_equal(_named(lanes), expected)


def test_lanes_of_splits_a_lane_between_the_owners_of_its_two_ends() -> None:
    store = _store(
        [
            event("A", "departure", 100, 1, to_hub="B"),
            event("B", "arrival", 30, 2, from_hub="A"),
        ]
    )
    a_side = store.lanes_of(pl.Series(["A"])).select("src", "dst", "departed", "arrived")
    b_side = store.lanes_of(pl.Series(["B"])).select("src", "dst", "departed", "arrived")
    assert a_side.row(0) == ("A", "B", 100, 0)
    assert b_side.row(0) == ("A", "B", 0, 30)
