"""Raised sensitivity under a weather warning: a key node in a red-warning province goes yellow
at the lowered floor only while the warning is valid, and only when the rule is enabled."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from core.config import RiskConfig
from core.hub_rules import classify
from core.sensitivity import WARNINGS_SCHEMA, WarningSensitivity
from tests.core.factories import ms
from tests.core.test_hub_rules import _measures

ON = RiskConfig(warning_sensitivity=WarningSensitivity(enabled=True))
AT_72_PERCENT: dict[str, Any] = {"utilization": 0.72}


def _warnings(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=WARNINGS_SCHEMA)


RED_ZHEJIANG = _warnings(
    {
        "province": "浙江",
        "city": None,
        "colour": "red",
        "valid_from_ms": ms(0),
        "valid_to_ms": ms(60),
    }
)


def _overflow(
    config: RiskConfig,
    warnings: pl.DataFrame,
    *,
    minute: float,
    key_node: bool = True,
) -> str:
    measures = _measures(AT_72_PERCENT, key_node=key_node)
    classified = classify(measures, config, warnings=warnings, step_ms=ms(minute))
    return str(classified["overflow_level"].cast(pl.String).item())


def test_key_node_under_red_warning_is_yellow_at_the_lowered_floor() -> None:
    assert _overflow(ON, RED_ZHEJIANG, minute=30) == "yellow"


@pytest.mark.parametrize("minute", [-1, 60, 61])
def test_outside_the_validity_the_usual_floor_holds(minute: float) -> None:
    assert _overflow(ON, RED_ZHEJIANG, minute=minute) == "blue"


def test_off_by_default() -> None:
    assert RiskConfig().warning_sensitivity.enabled is False
    assert _overflow(RiskConfig(), RED_ZHEJIANG, minute=30) == "blue"


def test_not_for_hubs_that_are_not_key_nodes() -> None:
    assert _overflow(ON, RED_ZHEJIANG, minute=30, key_node=False) == "blue"


def test_only_orange_and_red_and_only_the_covered_area() -> None:
    yellow = RED_ZHEJIANG.with_columns(colour=pl.lit("yellow"))
    elsewhere = RED_ZHEJIANG.with_columns(province=pl.lit("江苏"))
    other_city = RED_ZHEJIANG.with_columns(city=pl.lit("宁波"))
    this_city = RED_ZHEJIANG.with_columns(city=pl.lit("杭州"))  # the factory's hubs are in 杭州
    assert _overflow(ON, yellow, minute=30) == "blue"
    assert _overflow(ON, elsewhere, minute=30) == "blue"
    assert _overflow(ON, other_city, minute=30) == "blue"
    assert _overflow(ON, this_city, minute=30) == "yellow"


def test_a_warning_never_makes_a_level_milder() -> None:
    config = RiskConfig(
        warning_sensitivity=WarningSensitivity(enabled=True, overflow_utilization={"red": 1.2})
    )
    measures = _measures({"utilization": 1.05}, key_node=True)
    classified = classify(measures, config, warnings=RED_ZHEJIANG, step_ms=ms(30))
    assert classified["overflow_level"].cast(pl.String).item() == "red"
