"""Roll-ups of hub states by province, by carrier and for the nation."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from core.levels import LEVEL_DTYPE
from core.rollups import (
    carrier_rollup,
    national_rollup,
    province_and_national_rollups,
    province_rollup,
)
from tests.core.factories import hub_states

STATES = hub_states(
    {
        "hub_id": "ZJ-1",
        "storage_capacity": 1_000,
        "key_node": True,
        "backlog": 950,
        "overflow_level": "orange",
        "arrivals_30m": 600,
        "departures_30m": 300,
    },
    {"hub_id": "ZJ-2", "storage_capacity": 3_000, "backlog": 300, "carrier": "YTO"},
    {
        "hub_id": "JS-1",
        "province": "江苏",
        "storage_capacity": 2_000,
        "key_node": True,
        "backlog": 100,
        "silent_level": "yellow",
    },
    {
        "hub_id": "JS-2",
        "province": "江苏",
        "backlog": None,
        "arrival_rate_per_min": None,
        "departure_rate_per_min": None,
        "arrivals_30m": 0,
        "departures_30m": 0,
        "last_event_at": None,
        "level": "unknown",
        "overflow_level": "unknown",
        "saturation_level": "unknown",
        "silent_level": "unknown",
    },
)


def test_province_rollup_one_row_per_province_worst_first() -> None:
    expected = pl.DataFrame(
        {
            "province": ["浙江", "江苏"],
            "hubs": [2, 2],
            "hubs_reporting": [2, 1],
            "hubs_unknown": [0, 1],
            "hubs_none": [1, 0],
            "hubs_blue": [0, 0],
            "hubs_yellow": [0, 1],
            "hubs_orange": [1, 0],
            "hubs_red": [0, 0],
            "backlog": [1_250, 100],
            "storage_capacity": [4_000, 12_000],
            "arrivals_per_min": [20.0, 10.0],
            "departures_per_min": [20.0, 10.0],
            "arrivals_30m": [900, 300],
            "departures_30m": [600, 300],
            # capacity at orange or worse over the capacity of the hubs that report
            "orange_capacity_ratio": [0.25, 0.0],
            "key_nodes": [1, 1],
            "key_nodes_orange_capacity_ratio": [1.0, 0.0],
            "key_nodes_silent_ratio": [0.0, 1.0],
            # hubs silent among those that report: JS-1 of JS-1 (JS-2 never reported)
            "hubs_silent_ratio": [0.0, 1.0],
            "worst_hub_level": ["orange", "yellow"],
            "utilization": [1_250 / 4_000, 100 / 12_000],
            "departure_arrival_ratio": [600 / 900, 1.0],
        },
        schema_overrides={
            "hubs": pl.UInt32,
            "hubs_reporting": pl.UInt32,
            "hubs_unknown": pl.UInt32,
            "hubs_none": pl.UInt32,
            "hubs_blue": pl.UInt32,
            "hubs_yellow": pl.UInt32,
            "hubs_orange": pl.UInt32,
            "hubs_red": pl.UInt32,
            "key_nodes": pl.UInt32,
            "worst_hub_level": LEVEL_DTYPE,
        },
    )
    assert_frame_equal(province_rollup(STATES), expected)


def test_carrier_rollup_one_row_per_carrier() -> None:
    rollup = carrier_rollup(STATES)
    assert rollup["carrier"].to_list() == ["YTO", "ZTO"]
    assert rollup["hubs"].to_list() == [1, 3]
    assert rollup["backlog"].to_list() == [300, 1_050]
    assert rollup["worst_hub_level"].cast(pl.String).to_list() == ["none", "orange"]


def test_national_rollup_is_a_json_ready_dict() -> None:
    national = national_rollup(STATES)
    assert national["hubs"] == 4
    assert national["hubs_reporting"] == 3
    assert national["backlog"] == 1_350
    assert national["key_nodes_orange_capacity_ratio"] == 1_000 / 3_000
    assert national["key_nodes_silent_ratio"] == 0.5
    assert national["hubs_silent_ratio"] == 1 / 3
    assert national["departure_arrival_ratio"] == 900 / 1_200
    assert national["worst_hub_level"] == "orange"


def test_national_rollup_of_no_hub() -> None:
    national = national_rollup(STATES.clear())
    assert national["hubs"] == 0
    assert national["departure_arrival_ratio"] is None
    assert national["worst_hub_level"] == "unknown"


def test_provinces_and_nation_together_are_the_same_as_apart() -> None:
    provinces, national = province_and_national_rollups(STATES)
    assert_frame_equal(provinces, province_rollup(STATES))
    assert national == national_rollup(STATES)
