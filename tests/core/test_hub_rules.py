"""Hub rules at, just under and just over each default threshold, and the signal frame."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core.config import RiskConfig
from core.hub_rules import classify, signals
from core.levels import LEVEL_DTYPE
from core.measures import HUB_STATE_SCHEMA
from core.signals import SIGNAL_SCHEMA
from tests.core.factories import at, hub, registry

MEASURED: dict[str, Any] = {
    "arrivals_total": 1_000,
    "departures_total": 900,
    "backlog": 1_000,
    "utilization": 0.1,
    "arrival_rate_per_min": 10.0,
    "departure_rate_per_min": 10.0,
    "net_inflow_per_min": 0.0,
    "in_transit_parcels": 0,
    "time_to_overflow_s": None,
    "sorting_saturated": False,
    "saturation_ratio": 0.1,
    "arrivals_30m": 300,
    "departures_30m": 300,
    "last_event_at": at(0),
    "silent_for_s": 0.0,
    "at": at(0),
}
"""A calm hub that reports: every rule at ``none``."""


def _measures(*rows: dict[str, Any], key_node: bool = False) -> pl.DataFrame:
    hubs = registry(*[hub(f"H{i}", key_node=key_node) for i in range(len(rows))])
    measured_schema = {c: HUB_STATE_SCHEMA[c] for c in MEASURED}
    measured = pl.DataFrame([{**MEASURED, **row} for row in rows], schema=measured_schema)
    return hubs.hstack(measured)


def _levels(column: str, *rows: dict[str, Any], key_node: bool = False) -> list[str]:
    classified = classify(_measures(*rows, key_node=key_node), RiskConfig())
    return classified[column].cast(pl.String).to_list()


UTILIZATION_CASES = [
    (0.69, "none"),
    (0.70, "blue"),
    (0.79, "blue"),
    (0.80, "yellow"),
    (0.89, "yellow"),
    (0.90, "orange"),
    (0.99, "orange"),
    (1.00, "red"),
    (1.01, "red"),
]
ETA_CASES = [
    (None, "none"),
    (180 * 60 + 1, "none"),
    (180 * 60, "yellow"),
    (60 * 60 + 1, "yellow"),
    (60 * 60, "orange"),
    (15 * 60 + 1, "orange"),
    (15 * 60, "red"),
    (0.0, "red"),
]


@pytest.mark.parametrize(("utilization", "expected"), UTILIZATION_CASES)
def test_hub_overflow_by_utilization(utilization: float, expected: str) -> None:
    assert _levels("overflow_level", {"utilization": utilization}) == [expected]


@pytest.mark.parametrize(("eta_s", "expected"), ETA_CASES)
def test_hub_overflow_by_time_to_overflow(eta_s: float | None, expected: str) -> None:
    assert _levels("overflow_level", {"time_to_overflow_s": eta_s}) == [expected]


def test_hub_overflow_takes_the_worse_of_utilization_and_eta() -> None:
    rows = [
        {"utilization": 0.75, "time_to_overflow_s": 50 * 60},  # blue by U, orange by ETA
        {"utilization": 0.95, "time_to_overflow_s": 170 * 60},  # orange by U, yellow by ETA
    ]
    assert _levels("overflow_level", *rows) == ["orange", "orange"]


def test_a_hub_with_no_storage_capacity_is_not_rated_for_overflow() -> None:
    row = {"backlog": 5_000, "utilization": None, "time_to_overflow_s": None}
    hubs = registry(hub("H0", storage_capacity=0))
    measures = hubs.hstack(
        pl.DataFrame([{**MEASURED, **row}], schema={c: HUB_STATE_SCHEMA[c] for c in MEASURED})
    )
    assert classify(measures, RiskConfig())["overflow_level"].cast(pl.String).to_list() == ["none"]


def test_a_hub_never_heard_from_is_unknown_on_every_rule_not_green() -> None:
    never: dict[str, Any] = {
        c: None for c in MEASURED if c not in ("arrivals_total", "departures_total", "at")
    }
    never |= {"sorting_saturated": False, "in_transit_parcels": 0}
    classified = classify(_measures(never), RiskConfig())
    row = classified.select("overflow_level", "saturation_level", "silent_level", "level").row(0)
    assert row == ("unknown",) * 4
    assert signals(classified).height == 0


@pytest.mark.parametrize(
    ("saturated", "ratio", "expected"),
    [
        (False, 5.0, "none"),
        (True, 1.01, "yellow"),
        (True, 2.99, "yellow"),
        (True, 3.0, "orange"),
    ],
)
def test_hub_sorting_saturation(saturated: bool, ratio: float, expected: str) -> None:
    row = {"sorting_saturated": saturated, "saturation_ratio": ratio}
    assert _levels("saturation_level", row) == [expected]


@pytest.mark.parametrize(
    ("silent_s", "expected", "expected_key_node"),
    [
        (0.0, "none", "none"),
        (10 * 60 - 1, "none", "none"),
        (10 * 60, "yellow", "orange"),
        (30 * 60 - 1, "yellow", "orange"),
        (30 * 60, "orange", "red"),
        (6 * 3600, "orange", "red"),
    ],
)
def test_hub_silent_and_key_nodes_one_level_higher(
    silent_s: float, expected: str, expected_key_node: str
) -> None:
    row = {"silent_for_s": silent_s}
    assert _levels("silent_level", row) == [expected]
    assert _levels("silent_level", row, key_node=True) == [expected_key_node]


def test_the_hub_level_is_the_worst_of_its_rules() -> None:
    rows = [
        {},
        {"utilization": 0.7},
        {"utilization": 0.7, "silent_for_s": 900.0},
        {"utilization": 0.95, "sorting_saturated": True, "saturation_ratio": 1.5},
    ]
    assert _levels("level", *rows) == ["none", "blue", "yellow", "orange"]
    assert classify(_measures(*rows), RiskConfig())["level"].dtype == LEVEL_DTYPE


def test_thresholds_come_from_the_config() -> None:
    config = RiskConfig(
        overflow_utilization={"red": 0.5},
        overflow_eta_s={"orange": 7_200.0},
        silent_yellow_s=60,
        silent_orange_s=120,
    )
    rows = [{"utilization": 0.5}, {"time_to_overflow_s": 7_000.0}, {"silent_for_s": 120.0}]
    classified = classify(_measures(*rows), config)
    assert classified["overflow_level"].cast(pl.String).to_list() == ["red", "orange", "none"]
    assert classified["silent_level"].cast(pl.String).to_list() == ["none", "none", "orange"]


def test_signals_one_row_per_rule_at_blue_or_worse_with_summaries_and_values() -> None:
    rows = [
        {},  # calm: no signal
        {
            "backlog": 8_500,
            "utilization": 0.85,
            "arrival_rate_per_min": 150.0,
            "departure_rate_per_min": 100.0,
            "net_inflow_per_min": 50.0,
            "time_to_overflow_s": 1_800.0,
            "sorting_saturated": True,
            "saturation_ratio": 1.5,
        },
    ]
    frame = signals(classify(_measures(*rows), RiskConfig()))
    values = {
        "backlog": 8_500,
        "storage_capacity": 10_000,
        "utilization": 0.85,
        "arrival_rate_per_min": 150.0,
        "departure_rate_per_min": 100.0,
        "net_inflow_per_min": 50.0,
        "in_transit_parcels": 0,
        "time_to_overflow_s": 1_800.0,
        "sort_capacity_per_hour": 6_000,
        "silent_for_s": 0.0,
    }
    expected = pl.DataFrame(
        {
            "rule": ["hub_overflow", "hub_sorting_saturation"],
            "scope": ["hub", "hub"],
            "subject": ["H1", "H1"],
            "level": ["orange", "yellow"],
            "hub_id": ["H1", "H1"],
            "carrier": ["ZTO", "ZTO"],
            "province": ["浙江", "浙江"],
            "summary": [
                "中通H1 爆仓风险橙色：积压 8500 件 / 库容 10000 件 (85%)，净流入 50 件/分钟，"
                "预计 30 分钟后爆仓",
                "中通H1 分拣能力饱和黄色：到件速率 150 件/分钟，超过分拣能力 100 件/分钟",
            ],
            "summary_en": [
                "H1 (ZTO) Hub overflow risk ORANGE: backlog 8500 / 10000 parcels (85%), "
                "net inflow 50 parcels/min, overflow in ~30 min",
                "H1 (ZTO) Sorting saturation YELLOW: "
                "arrivals 150 parcels/min above sorting capacity 100 parcels/min",
            ],
            "values": [json.dumps(values, separators=(",", ":"))] * 2,
            "at": [at(0), at(0)],
        },
        schema=SIGNAL_SCHEMA,
    )
    assert_frame_equal(frame, expected)


def test_no_signals_from_calm_hubs() -> None:
    assert_frame_equal(
        signals(classify(_measures({}, {}), RiskConfig())), pl.DataFrame(schema=SIGNAL_SCHEMA)
    )
