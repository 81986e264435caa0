"""Roll-ups of hub states by province, by carrier and for the nation.

They work from a hub-state frame alone (the union of every replica's published rows), so every
replica computes the same numbers.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from core.levels import LEVELS

_AT_ORANGE = pl.col("overflow_level").cast(pl.String).is_in(["orange", "red"])
_SILENT = pl.col("silent_level").cast(pl.String).is_in(["yellow", "orange", "red"])
_HEARD = pl.col("last_event_at").is_not_null()


def _share(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return pl.when(denominator > 0).then(numerator / denominator).otherwise(0.0)


def _aggregations() -> list[pl.Expr]:
    capacity = pl.col("storage_capacity")
    return [
        pl.len().alias("hubs"),
        _HEARD.sum().alias("hubs_reporting"),
        *[
            (pl.col("level").cast(pl.String) == level).sum().alias(f"hubs_{level}")
            for level in LEVELS
        ],
        pl.col("backlog").sum().alias("backlog"),
        capacity.sum().alias("storage_capacity"),
        pl.col("arrival_rate_per_min").sum().alias("arrivals_per_min"),
        pl.col("departure_rate_per_min").sum().alias("departures_per_min"),
        pl.col("arrivals_30m").sum().alias("arrivals_30m"),
        pl.col("departures_30m").sum().alias("departures_30m"),
        _share(capacity.filter(_AT_ORANGE).sum(), capacity.filter(_HEARD).sum()).alias(
            "orange_capacity_ratio"
        ),
        pl.col("key_node").sum().alias("key_nodes"),
        _share(
            capacity.filter(_AT_ORANGE & pl.col("key_node")).sum(),
            capacity.filter(_HEARD & pl.col("key_node")).sum(),
        ).alias("key_nodes_orange_capacity_ratio"),
        _share((_SILENT & pl.col("key_node")).sum(), (_HEARD & pl.col("key_node")).sum()).alias(
            "key_nodes_silent_ratio"
        ),
        pl.col("level").max().alias("worst_hub_level"),
    ]


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        utilization=_share(pl.col("backlog"), pl.col("storage_capacity")),
        departure_arrival_ratio=pl.when(pl.col("arrivals_30m") > 0).then(
            pl.col("departures_30m") / pl.col("arrivals_30m")
        ),
    )


def province_rollup(hub_states: pl.DataFrame) -> pl.DataFrame:
    """One row per province, worst first."""
    frame = _finish(hub_states.group_by("province").agg(_aggregations()))
    return frame.sort(
        ["worst_hub_level", "orange_capacity_ratio", "province"], descending=[True, True, False]
    )


def carrier_rollup(hub_states: pl.DataFrame) -> pl.DataFrame:
    """One row per carrier."""
    return _finish(hub_states.group_by("carrier").agg(_aggregations())).sort("carrier")


def national_rollup(hub_states: pl.DataFrame) -> dict[str, Any]:
    """National totals as a plain dict (JSON-ready)."""
    row = _finish(hub_states.select(_aggregations())).to_dicts()[0]
    row["worst_hub_level"] = (
        str(row["worst_hub_level"]) if row["worst_hub_level"] is not None else "unknown"
    )
    return row
