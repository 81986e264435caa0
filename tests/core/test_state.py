"""HubStore: backlog reconciliation (anchors, flows after them, settling), buckets, lanes and
the parcels in transit on them (core.lanes)."""

from __future__ import annotations

from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

from core import lanes
from core.engine import Engine
from core.state import BUCKET_SCHEMA, HubStore
from tests.core.factories import T0_MS, at, event, events, hub, ms, registry, store_events


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


def test_hubs_merged_twice_before_the_first_settle_are_settled() -> None:
    store = _store([event("B", "arrival", 5, 0)])
    store.apply(store_events([event("A", "arrival", 3, 1)]))
    store.compact(None)  # a second merge: settled_to_s is still null for every hub
    _settle(store, 2)
    assert store.hubs["settled_to_s"].to_list() == [ms(2) // 1000] * 2
    assert _backlog(store) == {"A": 3, "B": 5}


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


def _lane_totals(store: HubStore) -> list[tuple[str, str, int, int, int]]:
    """(src, dst, departed, arrived, expired) of every lane (arrivals naming no source left
    out)."""
    totals = store.lanes.filter(pl.col("bucket_s") == lanes.LANE, pl.col("src").is_not_null())
    columns = ("src", "dst", "departed", "arrived", "expired")
    return sorted(_named(totals).select(columns).rows())


def _in_transit(store: HubStore, minute: float | None = None) -> dict[str, int]:
    """In transit per hub, after settling at ``minute`` (a step) when given."""
    if minute is not None:
        store.compact(ms(minute) // 1000)
    return dict(_named(store.in_transit()).sort("hub_id").iter_rows())


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
            event("B", "arrival", 500, 2),  # a local collection: B names its lanes
        ],
    )
    expected = pl.DataFrame({"hub_id": ["B", "C"], "in_transit_parcels": [70, 40]})
    assert_frame_equal(_named(store.in_transit()).sort("hub_id"), expected)


def test_a_departure_is_in_transit_for_the_transit_time_bound_at_most() -> None:
    store = _store(
        [
            event("A", "departure", 100, 0, to_hub="B"),  # B never names A
            event("A", "departure", 70, 0, to_hub="C"),
            event("C", "arrival", 20, 30, from_hub="A"),
        ]
    )
    for minute in (60, 200, 360):  # settling (the step) folds nothing still inside the bound
        store.compact(ms(minute) // 1000)
        assert _in_transit(store, minute) == {"B": 100, "C": 50}
    store.compact(ms(361) // 1000)
    assert _in_transit(store, 361) == {}  # 6 h (in_transit_horizon_s) after departing
    assert _lane_totals(store) == [("A", "B", 100, 0, 100), ("A", "C", 70, 20, 70)]  # expired
    shorter = _store([event("A", "departure", 100, 0, to_hub="B")])
    assert _in_transit(shorter, 59) == {"B": 100}
    shorter.compact(ms(61) // 1000, in_transit_horizon_s=3_600)
    assert _in_transit(shorter, 61) == {}


def test_arrivals_naming_no_source_take_off_departures_within_the_bound() -> None:
    store = _store([event("B", "arrival", 500, 0)])  # collections, 6 h before anything left A
    store.apply(store_events([event("A", "departure", 300, 400, to_hub="B")]))
    assert _in_transit(store, 400) == {"B": 300}  # the 500 are past the bound: no credit
    store.apply(store_events([event("B", "arrival", 100, 420)]))
    assert _in_transit(store, 420) == {"B": 200}  # the first 100 of them have arrived
    store.apply(store_events([event("B", "arrival", 1_000, 430)]))
    assert _in_transit(store, 430) == {}  # more arrived than was on the road: never negative
    store.apply(store_events([event("A", "departure", 800, 440, to_hub="B")]))
    assert _in_transit(store, 440) == {}  # netted within the bound: 1 100 − 1 100
    store.apply(store_events([event("A", "departure", 50, 790, to_hub="B")]))
    assert _in_transit(store, 790) == {"B": 850}  # the arrivals of 420 and 430 expired, 440 not


def test_arrivals_naming_no_source_leave_the_lanes_named_by_other_arrivals_alone() -> None:
    store = _store(
        [
            event("A", "departure", 300, 0, to_hub="B"),  # B names A on its arrivals
            event("C", "departure", 200, 0, to_hub="B"),  # ... never C
            event("B", "arrival", 100, 20, from_hub="A"),
            event("B", "arrival", 150, 20),  # from C, or collected: it takes off C's only
        ]
    )
    assert _in_transit(store, 20) == {"B": 200 + 50}


def test_the_totals_of_a_lane_without_events_for_max_transit_s_are_forgotten() -> None:
    store = _store(
        [
            event("A", "departure", 100, 0, to_hub="B"),
            event("B", "arrival", 10, 5, from_hub="A"),
            event("B", "arrival", 10, 5),
        ]
    )
    store.compact(ms(400) // 1000)
    assert _lane_totals(store) == [("A", "B", 100, 10, 100)]
    assert store.lanes.height == 2  # and B's arrivals naming no source: only totals are left
    store.compact(ms(47 * 60 + 6) // 1000)
    assert store.lanes.height == 2
    store.compact(ms(48 * 60 + 6) // 1000)
    assert store.lanes.height == 0


def _lane_stream(minutes: int) -> list[list[dict[str, Any]]]:
    """Per-minute batches: A and B (partition 0) and C (1) on lanes both ways; B names no
    source, A and C name theirs; a surge from C to B in the second hour."""
    batches = []
    for m in range(minutes):
        surge = 5_000 if m == 70 else 0
        batches.append(
            [
                event("A", "departure", 40 + m % 7, m, to_hub="B", partition=0),
                event("A", "departure", 25, m + 0.2, to_hub="C", partition=0),
                event("C", "departure", 30 + surge, m + 0.4, to_hub="B", partition=1),
                event("C", "departure", 20, m + 0.5, to_hub="A", partition=1),
                event("B", "arrival", 60 + m % 5, m + 0.6, partition=0),
                event("A", "arrival", 18, m + 0.7, from_hub="C", partition=0),
                event("C", "arrival", 24, m + 0.8, from_hub="A", partition=1),
                event("C", "arrival", 9, m + 0.9, partition=1),
            ]
        )
    return batches


def _stepped(batches: list[list[dict[str, Any]]]) -> HubStore:
    store = HubStore()
    for m, rows in enumerate(batches):
        store.apply(store_events(rows))
        store.compact(ms(m + 1) // 1000, in_transit_horizon_s=3_600)
    return store


def test_lane_checkpoints_of_each_owner_add_up_to_the_whole_after_folds() -> None:
    store = _stepped(_lane_stream(90))  # with a 1 h bound: the first half hour has expired
    assert all(expired > 0 for *_, expired in _lane_totals(store))
    assert _in_transit(store)["B"] > 0
    whole = store.lanes
    restored = HubStore()
    for hub_ids in (["A", "B"], ["C"]):  # partitions 0 and 1
        part = HubStore(hubs=store.hubs.filter(pl.col("hub_id").is_in(hub_ids)))
        part.lanes = store.lanes_of(pl.Series(hub_ids))
        restored.add(part)
    key = ["bucket_s", "src", "dst"]
    assert_frame_equal(_named(restored.lanes).sort(key), _named(whole).sort(key))
    assert _in_transit(restored) == _in_transit(store)


def test_an_engine_checkpoint_round_trip_after_expiry_is_exact() -> None:
    hubs = registry(hub("A"), hub("B"), hub("C"))
    engine = Engine(hubs)
    engine.store.transit_horizon_s = 3_600  # a 1 h bound: the first half hour has expired
    for m, rows in enumerate(_lane_stream(90)):
        engine.apply(events(rows), now=at(m + 1))
    assert _in_transit(engine.store)["B"] > 0
    assert all(expired > 0 for *_, expired in _lane_totals(engine.store))
    whole = Engine.restore(engine.checkpoint(), hubs)
    parts = Engine(hubs)
    for partition in (0, 1):
        parts.load_checkpoint(engine.checkpoint({partition}))
    key = ["bucket_s", "src", "dst"]
    for restored in (whole, parts):
        restored.store.transit_horizon_s = 3_600
        assert_frame_equal(restored.hub_states(), engine.hub_states())
        assert_frame_equal(
            _named(restored.store.lanes).sort(key), _named(engine.store.lanes).sort(key)
        )


def test_lanes_are_the_same_in_any_batching() -> None:
    batches = _lane_stream(3 * 60)
    by_minute = _stepped(batches)
    by_hour = HubStore()
    for hour in range(3):
        rows = [row for batch in batches[hour * 60 : (hour + 1) * 60] for row in batch]
        by_hour.apply(store_events(rows[::-1]))
        by_hour.compact(ms((hour + 1) * 60) // 1000, in_transit_horizon_s=3_600)
    key = ["bucket_s", "src", "dst"]
    assert_frame_equal(_named(by_hour.lanes).sort(key), _named(by_minute.lanes).sort(key))


def test_lanes_of_a_checkpoint_from_before_the_buckets_become_lane_totals() -> None:
    old = pl.DataFrame(
        {"src": ["A"], "dst": ["B"], "departed": [100], "arrived": [30], "last_ms": [ms(0)]},
        schema_overrides={"src": pl.Categorical(), "dst": pl.Categorical()},
    )
    store = HubStore()
    store.add(HubStore(lanes=old))
    assert _in_transit(store, 1) == {}  # departure times unknown: none counted as on the road
    store.apply(store_events([event("A", "departure", 50, 1, to_hub="B")]))
    store.compact(None)
    assert _in_transit(store, 1) == {"B": 50}  # still a lane whose arrivals name it


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
    assert _lane_totals(store) == [("A", "B", 0, 30, 0), ("B", "A", 60, 0, 0)]
    departures = store.lanes.filter(pl.col("bucket_s") != lanes.LANE)
    assert _named(departures).select("src", "dst", "departed").rows() == [("B", "A", 60)]


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
