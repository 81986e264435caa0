"""Raised sensitivity under a weather warning: key nodes in an area under an orange or red
external warning (暴雪, 台风 …) rate ``hub_overflow`` at lower utilisation floors.

Off by default (``RiskConfig.warning_sensitivity.enabled``). Pure and in event time: the
warnings come in as a frame (``WARNINGS_SCHEMA``) and count only while the step lies in
``[valid_from_ms, valid_to_ms)``. A warning without a city covers its whole province.

    flags = under_warning(measures, warnings, step_ms=step_ms, config=config.warning_sensitivity)
"""

from __future__ import annotations

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

WARNINGS_SCHEMA: dict[str, pl.DataType] = {
    "province": pl.String(),
    "city": pl.String(),
    "colour": pl.String(),
    "valid_from_ms": pl.Int64(),
    "valid_to_ms": pl.Int64(),
}
"""One row per warning: where (city null: the whole province), colour, validity (epoch ms)."""


class WarningSensitivity(BaseModel):
    """Lower ``hub_overflow`` utilisation floors for key nodes under a warning of ``colours``.

    The defaults move each floor down by 0.1 (yellow at 70 % instead of 80 %): in a blizzard
    trucks stop, so a key node fills with nothing leaving and there is less time to act.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    colours: tuple[str, ...] = ("orange", "red")
    key_nodes_only: bool = True
    overflow_utilization: dict[str, float] = Field(
        default_factory=lambda: {"orange": 0.8, "yellow": 0.7, "blue": 0.6},
        description="floors that replace the usual ones (the lower of the two counts)",
    )


def empty_warnings() -> pl.DataFrame:
    """A warnings frame with no rows."""
    return pl.DataFrame(schema=WARNINGS_SCHEMA)


def under_warning(
    measures: pl.DataFrame,
    warnings: pl.DataFrame,
    *,
    step_ms: int,
    config: WarningSensitivity,
) -> pl.Series:
    """Per row of ``measures`` (``hub_id``, ``province``, ``city``, ``key_node``): True when the
    rule applies to the hub at ``step_ms`` — enabled, a key node (unless ``key_nodes_only`` is
    off) and covered by a warning of a sensitive colour valid at the step."""
    if not config.enabled or warnings.height == 0:
        return measures.select(pl.repeat(False, measures.height).alias("under_warning")).to_series()
    valid = warnings.filter(
        pl.col("colour").is_in(list(config.colours)),
        pl.col("valid_from_ms") <= step_ms,
        pl.col("valid_to_ms") > step_ms,
    )
    provinces = valid.filter(pl.col("city").is_null())["province"].unique().implode()
    cities = valid.filter(pl.col("city").is_not_null()).select(
        pl.concat_str("province", "city", separator="/")
    )
    covered = pl.col("province").is_in(provinces) | pl.concat_str(
        "province", "city", separator="/"
    ).is_in(cities.to_series().implode())
    if config.key_nodes_only:
        covered = covered & pl.col("key_node")
    return measures.select(covered.fill_null(False).alias("under_warning")).to_series()
