"""province_congestion and network_paralysis at, just under and just over their thresholds."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core.config import RiskConfig
from core.network_rules import network_level, network_signals
from core.signals import SIGNAL_SCHEMA
from tests.core.factories import T0, hub_states

CONFIG = RiskConfig()


def _signals(frame: pl.DataFrame) -> pl.DataFrame:
    return network_signals(frame, at=T0, config=CONFIG)


def _levels(frame: pl.DataFrame, rule: str) -> dict[str, str]:
    hits = _signals(frame).filter(pl.col("rule") == rule)
    return dict(hits.select("subject", pl.col("level").cast(pl.String)).iter_rows())


def _province(orange_capacity: int, calm_capacity: int) -> pl.DataFrame:
    return hub_states(
        {"hub_id": "HOT", "storage_capacity": orange_capacity, "overflow_level": "orange"},
        {"hub_id": "CALM", "storage_capacity": calm_capacity},
    )


@pytest.mark.parametrize(
    ("orange_capacity", "expected"),
    [(29, None), (30, "orange"), (49, "orange"), (50, "red"), (100, "red")],
)
def test_province_congestion_by_capacity_share_at_orange_or_worse(
    orange_capacity: int, expected: str | None
) -> None:
    levels = _levels(_province(orange_capacity, 100 - orange_capacity), "province_congestion")
    assert levels == ({} if expected is None else {"浙江": expected})


def test_province_congestion_weighs_hubs_by_capacity_not_by_count() -> None:
    small_hot = hub_states(
        {"hub_id": "S", "storage_capacity": 100, "overflow_level": "red"},
        *[{"hub_id": f"B{i}", "storage_capacity": 600} for i in range(2)],
    )
    big_hot = hub_states(
        {"hub_id": "B", "storage_capacity": 600, "overflow_level": "orange"},
        *[{"hub_id": f"S{i}", "storage_capacity": 100} for i in range(2)],
    )
    assert _levels(small_hot, "province_congestion") == {}  # one hub in three, 8 % of capacity
    assert _levels(big_hot, "province_congestion") == {"浙江": "red"}  # 75 % of capacity


def test_province_congestion_counts_overflow_only_and_hubs_that_report() -> None:
    frame = hub_states(
        {"hub_id": "A", "storage_capacity": 100, "silent_level": "red", "key_node": True},
        {"hub_id": "B", "storage_capacity": 100, "saturation_level": "orange"},
        {"hub_id": "C", "storage_capacity": 100, "overflow_level": "yellow"},
        {"hub_id": "D", "storage_capacity": 100, "overflow_level": "orange", "province": "江苏"},
        {"hub_id": "E", "storage_capacity": 900, "last_event_at": None, "province": "江苏"},
    )
    assert _levels(frame, "province_congestion") == {"江苏": "red"}  # E never reported


@pytest.mark.parametrize(
    ("national", "expected"),
    [
        ({}, ("none", [])),
        ({"key_nodes_orange_capacity_ratio": 0.09}, ("none", [])),
        ({"key_nodes_orange_capacity_ratio": 0.10}, ("yellow", ["key_nodes_orange"])),
        ({"key_nodes_orange_capacity_ratio": 0.19}, ("yellow", ["key_nodes_orange"])),
        ({"key_nodes_orange_capacity_ratio": 0.20}, ("orange", ["key_nodes_orange"])),
        ({"key_nodes_orange_capacity_ratio": 0.34}, ("orange", ["key_nodes_orange"])),
        ({"key_nodes_orange_capacity_ratio": 0.35}, ("red", ["key_nodes_orange"])),
        ({"departure_arrival_ratio": 0.6}, ("none", [])),
        ({"departure_arrival_ratio": 0.59}, ("orange", ["departures_lag_arrivals"])),
        ({"departure_arrival_ratio": None}, ("none", [])),  # nothing arrived in 30 min
        ({"key_nodes_silent_ratio": 0.09}, ("none", [])),
        ({"key_nodes_silent_ratio": 0.10}, ("yellow", ["key_nodes_silent"])),
        (
            {"key_nodes_orange_capacity_ratio": 0.12, "departure_arrival_ratio": 0.5},
            ("orange", ["key_nodes_orange", "departures_lag_arrivals"]),
        ),
        (
            {"key_nodes_orange_capacity_ratio": 0.4, "key_nodes_silent_ratio": 0.5},
            ("red", ["key_nodes_orange", "key_nodes_silent"]),
        ),
    ],
)
def test_network_level_at_each_threshold(
    national: dict[str, Any], expected: tuple[str, list[str]]
) -> None:
    calm = {
        "key_nodes_orange_capacity_ratio": 0.0,
        "departure_arrival_ratio": 1.0,
        "key_nodes_silent_ratio": 0.0,
    }
    assert network_level({**calm, **national}, CONFIG) == expected


def _key_nodes(orange: int, calm: int, **changes: Any) -> list[dict[str, Any]]:
    hot = {"storage_capacity": orange, "overflow_level": "orange", "key_node": True}
    return [
        {"hub_id": "K-HOT", **hot},
        {"hub_id": "K-CALM", "storage_capacity": calm, "key_node": True},
        {"hub_id": "NOT-KEY", "storage_capacity": 10_000, "overflow_level": "red", **changes},
    ]


@pytest.mark.parametrize(
    ("orange", "expected"),
    [(9, None), (10, "yellow"), (19, "yellow"), (20, "orange"), (34, "orange"), (35, "red")],
)
def test_network_paralysis_by_key_node_capacity_at_orange_or_worse(
    orange: int, expected: str | None
) -> None:
    # the red hub that is not a key node counts for its province, not for the network
    frame = hub_states(*_key_nodes(orange, 100 - orange, province="江苏"))
    levels = _levels(frame, "network_paralysis")
    assert levels == ({} if expected is None else {"CN": expected})


@pytest.mark.parametrize(("departures", "expected"), [(600, None), (599, "orange")])
def test_network_paralysis_when_departures_lag_arrivals_over_30_min(
    departures: int, expected: str | None
) -> None:
    frame = hub_states(
        {"hub_id": "A", "arrivals_30m": 500, "departures_30m": departures // 2},
        {"hub_id": "B", "arrivals_30m": 500, "departures_30m": departures - departures // 2},
    )
    levels = _levels(frame, "network_paralysis")
    assert levels == ({} if expected is None else {"CN": expected})


@pytest.mark.parametrize(("key_nodes", "expected"), [(10, "yellow"), (11, None)])
def test_network_paralysis_when_a_tenth_of_key_nodes_fall_silent(
    key_nodes: int, expected: str | None
) -> None:
    rows = [{"hub_id": f"K{i}", "key_node": True} for i in range(key_nodes)]
    rows[0]["silent_level"] = "orange"  # a key node silent 10 min is already orange
    frame = hub_states(*rows, {"hub_id": "X", "silent_level": "orange"})
    levels = _levels(frame, "network_paralysis")
    assert levels == ({} if expected is None else {"CN": expected})


def test_nothing_from_a_calm_network_or_before_any_hub_reports() -> None:
    calm = hub_states(*[{"hub_id": f"H{i}", "key_node": i % 2 == 0} for i in range(6)])
    assert_frame_equal(_signals(calm), pl.DataFrame(schema=SIGNAL_SCHEMA))
    silent = hub_states({"hub_id": "A", "last_event_at": None, "level": "unknown"})
    assert_frame_equal(_signals(silent), pl.DataFrame(schema=SIGNAL_SCHEMA))


def test_the_signal_frame_says_why() -> None:
    frame = hub_states(
        {"hub_id": "K1", "storage_capacity": 400, "key_node": True, "overflow_level": "red"},
        {"hub_id": "K2", "storage_capacity": 600, "key_node": True, "province": "江苏"},
    )
    expected = pl.DataFrame(
        {
            "rule": ["province_congestion", "network_paralysis"],
            "scope": ["province", "network"],
            "subject": ["浙江", "CN"],
            "level": ["red", "red"],
            "hub_id": [None, None],
            "carrier": [None, None],
            "province": ["浙江", None],
            "summary": [
                "浙江 省内拥堵红色：按容量计 100% 的转运中心处于橙色及以上爆仓风险",
                "全网瘫痪风险红色：重要节点 40% (按容量) 处于橙色及以上，"
                "近30分钟发运/到件比 1.00，0% 重要节点数据中断",
            ],
            "summary_en": [
                "浙江 Province congestion RED: 100% of hub capacity at orange or worse",
                "Network paralysis risk RED: 40% of key-node capacity at orange or worse, "
                "30-min departures/arrivals 1.00, 0% of key nodes silent",
            ],
            "values": [
                json.dumps(
                    {"orange_capacity_ratio": 1.0, "hubs": 1, "hubs_orange": 0, "hubs_red": 1}
                ),
                json.dumps(
                    {
                        "key_nodes_orange_capacity_ratio": 0.4,
                        "departure_arrival_ratio": 1.0,
                        "key_nodes_silent_ratio": 0.0,
                        "reasons": ["key_nodes_orange"],
                    }
                ),
            ],
            "at": [T0, T0],
        },
        schema=SIGNAL_SCHEMA,
    )
    assert_frame_equal(_signals(frame), expected)
