"""measure(): rates, backlog, utilisation, time to overflow, saturation and freshness per hub."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core import hub_rules
from core.config import RiskConfig
from core.measures import HUB_STATE_SCHEMA, TS, measure
from core.state import HubStore
from tests.core.factories import at, event, hub, ms, registry, store_events

MEASURE_COLUMNS = [
    c
    for c in HUB_STATE_SCHEMA
    if c not in ("overflow_level", "saturation_level", "silent_level", "level")
]


def _measure(
    rows: list[dict[str, Any]],
    hubs: pl.DataFrame,
    *,
    watermark: float,
    config: RiskConfig | None = None,
) -> pl.DataFrame:
    store = HubStore()
    store.apply(store_events(rows))
    store.compact(ms(watermark) // 1000)
    return measure(store, hubs, watermark_ms=ms(watermark), config=config or RiskConfig())


def _steady(
    hub_id: str, arrivals: int, departures: int, minutes: range, **kw: Any
) -> list[dict[str, Any]]:
    rows = []
    for minute in minutes:
        rows.append(event(hub_id, "arrival", arrivals, minute, **kw))
        rows.append(event(hub_id, "departure", departures, minute + 0.5, **kw))
    return rows


def _row(frame: pl.DataFrame, hub_id: str) -> dict[str, Any]:
    return frame.filter(pl.col("hub_id") == hub_id).row(0, named=True)


def test_one_frame_for_every_registered_hub_heard_or_not() -> None:
    hubs = registry(hub("A"), hub("B"), hub("C", storage_capacity=0))
    rows = [
        event("A", "backlog", 4_000, -1),
        *_steady("A", 120, 60, range(30)),
        event("C", "backlog", 50, 29),
    ]
    measured = _measure(rows, hubs, watermark=30)
    # A: backlog 4 000 + 30 × (120 − 60) = 5 800; 15-min rates 120 and 60 /min, g = 60 /min;
    # ETA (10 000 − 5 800) / 60 = 70 min; 120/min is above the 100/min sorting every minute.
    computed = pl.DataFrame(
        {
            "arrivals_total": [3_600, 0, 0],
            "departures_total": [1_800, 0, 0],
            "backlog": [5_800, None, 50],
            "utilization": [0.58, None, None],
            "arrival_rate_per_min": [120.0, None, 0.0],
            "departure_rate_per_min": [60.0, None, 0.0],
            "net_inflow_per_min": [60.0, None, 0.0],
            "in_transit_parcels": [0, 0, 0],
            "time_to_overflow_s": [4_200.0, None, None],
            "sorting_saturated": [True, False, False],
            "saturation_ratio": [1.2, 0.0, 0.0],
            "arrivals_30m": [3_600, 0, 0],
            "departures_30m": [1_800, 0, 0],
            "last_event_at": [at(29.5), None, at(29)],
            "silent_for_s": [30.0, None, 60.0],
            "at": [at(30)] * 3,
        },
        schema={c: HUB_STATE_SCHEMA[c] for c in MEASURE_COLUMNS[len(hubs.columns) :]},
    )
    assert_frame_equal(measured, hubs.hstack(computed))


def test_measures_follow_the_registry_order_and_schema() -> None:
    hubs = registry(hub("Z"), hub("A"), hub("M"))
    measured = _measure([event("A", "arrival", 1, 0)], hubs, watermark=1)
    assert measured["hub_id"].to_list() == ["Z", "A", "M"]
    assert measured.schema == pl.Schema({c: HUB_STATE_SCHEMA[c] for c in MEASURE_COLUMNS})
    assert measured["at"].dtype == TS


@pytest.mark.parametrize(
    ("arrivals", "departures"),
    [(100, 100), (80, 100), (0, 0)],
    ids=["balanced", "draining", "idle"],
)
def test_no_time_to_overflow_when_the_net_inflow_is_not_positive(
    arrivals: int, departures: int
) -> None:
    rows = [event("A", "backlog", 9_000, 0), *_steady("A", arrivals, departures, range(20))]
    row = _row(_measure(rows, registry(hub("A")), watermark=20), "A")
    assert row["net_inflow_per_min"] == arrivals - departures
    assert row["time_to_overflow_s"] is None


def test_rates_use_the_whole_minutes_before_the_watermark_only() -> None:
    rows = [
        *_steady("A", 10, 0, range(5, 20)),  # minutes 5..19: the 15-min window
        event("A", "arrival", 1_000, 4),  # before the window
        event("A", "arrival", 1_000, 20.5),  # the watermark's own minute: not yet complete
    ]
    row = _row(_measure(rows, registry(hub("A")), watermark=20.5), "A")
    assert row["arrival_rate_per_min"] == 10.0
    assert row["backlog"] == 2_150  # backlog counts everything applied


def test_time_to_overflow_is_zero_once_full_while_still_growing() -> None:
    rows = [event("A", "backlog", 12_000, 0), *_steady("A", 20, 10, range(1, 16))]
    row = _row(_measure(rows, registry(hub("A")), watermark=16), "A")
    assert row["utilization"] == 1.215
    assert row["time_to_overflow_s"] == 0.0


def test_in_transit_parcels_raise_the_expected_arrival_rate_of_the_eta() -> None:
    # arrivals and departures balance (g = 0), but 7 200 parcels are on the road to B (of the
    # 7 350 sent, B's 150 arrivals since, which name no source, are taken as the first ones):
    # spread over the 6 h in-transit horizon that is 20/min expected, so g = 20 − 10 = 10/min
    rows = [
        event("A", "departure", 7_350, 0, to_hub="B"),
        event("B", "backlog", 4_000, 0),
        *_steady("B", 10, 10, range(1, 16)),
    ]
    hubs = registry(hub("A"), hub("B"))
    row = _row(_measure(rows, hubs, watermark=16), "B")
    assert row["in_transit_parcels"] == 7_200
    assert row["net_inflow_per_min"] == 0.0  # the measured rates are unchanged
    assert row["time_to_overflow_s"] == (10_000 - 4_000) / 10 * 60


def test_in_transit_parcels_below_the_arrival_rate_change_nothing() -> None:
    rows = [
        event("A", "departure", 360, 0, to_hub="B"),  # 1/min over 6 h
        event("B", "backlog", 4_000, 0),
        *_steady("B", 30, 10, range(1, 16)),
    ]
    row = _row(_measure(rows, registry(hub("A"), hub("B")), watermark=16), "B")
    assert row["time_to_overflow_s"] == (10_000 - 4_300) / 20 * 60


def _overflow_day(
    store: HubStore, hubs: pl.DataFrame, minutes: range, rows_of: Callable[[int], list[Any]]
) -> list[tuple[int, int, str]]:
    """Feed each minute's rows, settle and measure B every 30 min (as the steps do): (minute,
    in_transit_parcels, overflow_level) of each measure."""
    config, seen = RiskConfig(), []
    for minute in minutes:
        store.apply(store_events(rows_of(minute)))
        if minute % 30 == 29:
            store.compact(ms(minute + 1) // 1000)
            states = hub_rules.classify(
                measure(store, hubs, watermark_ms=ms(minute + 1), config=config), config
            )
            row = _row(states, "B")
            seen.append((minute + 1, row["in_transit_parcels"], row["overflow_level"]))
    return seen


def test_a_balanced_hub_whose_arrivals_name_no_source_stays_calm_for_a_day() -> None:
    # A sends B 100 parcels a minute; B's arrivals (100/min) do not say where they come from,
    # and B sends on what it receives: nothing builds up. Parcels counted "on their way" until
    # the lane fell idle for 48 h used to climb to yellow in 12 h and orange in 24 h.
    def minute_of(m: int) -> list[dict[str, Any]]:
        return [
            event("A", "departure", 100, m + 0.1, to_hub="B"),
            event("B", "arrival", 100, m + 0.3),
            event("B", "departure", 100, m + 0.5),
        ]

    store = HubStore()
    store.apply(store_events([event("B", "backlog", 4_000, 0)]))
    seen = _overflow_day(store, registry(hub("A"), hub("B")), range(24 * 60), minute_of)
    assert len(seen) == 48
    assert {level for _, _, level in seen} == {"none"}
    assert {in_transit for _, in_transit, _ in seen} == {0}


def test_an_upstream_surge_shows_as_in_transit_pressure_while_it_is_on_its_way() -> None:
    # B is balanced at 100/min; A sends 108 000 extra at minute 60, which reach B at minute 240:
    # on the road they are 300/min expected over the 6 h bound, g = 300 − 100 = 200/min, so
    # the 20 000 parcels of room last 100 min: yellow before the trucks arrive
    def minute_of(m: int) -> list[dict[str, Any]]:
        rows = [
            event("A", "departure", 100 + (108_000 if m == 60 else 0), m + 0.1, to_hub="B"),
            event("B", "arrival", 100 + (108_000 if m == 240 else 0), m + 0.3),
            event("B", "departure", 100, m + 0.5),
        ]
        return rows

    store = HubStore()
    store.apply(store_events([event("B", "backlog", 40_000, 0)]))
    hubs = registry(hub("A"), hub("B", storage_capacity=60_000))
    seen = dict(
        (m, (t, level)) for m, t, level in _overflow_day(store, hubs, range(270), minute_of)
    )
    assert seen[60] == (0, "none")
    assert all(seen[m] == (108_000, "yellow") for m in (90, 120, 180, 240))
    assert seen[270][0] == 0  # arrived: no longer on the road (now in the backlog)


@pytest.mark.parametrize(
    ("minutes_above", "saturated"), [(15, True), (14, False)], ids=["15-of-15", "14-of-15"]
)
def test_sorting_is_saturated_when_every_minute_of_the_window_is_above_capacity(
    minutes_above: int, saturated: bool
) -> None:
    # 6 000/h is 100/min: 101 is above, 100 is not
    rows = [event("A", "arrival", 101 if m < minutes_above else 100, m) for m in range(15)]
    row = _row(_measure(rows, registry(hub("A")), watermark=15), "A")
    assert row["sorting_saturated"] is saturated


def test_a_hub_without_sorting_capacity_is_not_rated_for_saturation() -> None:
    rows = [event("A", "arrival", 500, m) for m in range(15)]
    row = _row(_measure(rows, registry(hub("A", sort_capacity_per_hour=0)), watermark=15), "A")
    assert row["sorting_saturated"] is False
    assert row["saturation_ratio"] is None


def test_silence_is_measured_against_the_watermark() -> None:
    rows = [event("A", "arrival", 1, 0), event("B", "arrival", 1, 40)]
    measured = _measure(rows, registry(hub("A"), hub("B")), watermark=35)
    assert _row(measured, "A")["silent_for_s"] == 35 * 60
    assert _row(measured, "B")["silent_for_s"] == 0.0  # ahead of the watermark: not silent


def test_before_any_watermark_every_hub_is_unmeasured() -> None:
    store = HubStore()
    store.compact(None)
    measured = measure(store, registry(hub("A")), watermark_ms=None, config=RiskConfig())
    row = measured.row(0, named=True)
    assert (row["backlog"], row["silent_for_s"], row["at"]) == (None, None, None)
