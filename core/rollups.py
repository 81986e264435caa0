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


def _counted(hub_states: pl.DataFrame) -> pl.LazyFrame:
    """Hub states with the per-hub terms of the sums below as plain columns (so that every
    aggregation is a simple sum, computed on the fast path)."""
    capacity, key = pl.col("storage_capacity"), pl.col("key_node")
    level = pl.col("level").cast(pl.String)
    return hub_states.lazy().with_columns(
        _HEARD.alias("_heard"),
        *[(level == name).alias(f"_hubs_{name}") for name in LEVELS],
        pl.when(_AT_ORANGE).then(capacity).otherwise(0).alias("_orange_capacity"),
        pl.when(_HEARD).then(capacity).otherwise(0).alias("_heard_capacity"),
        pl.when(_AT_ORANGE & key).then(capacity).otherwise(0).alias("_key_orange_capacity"),
        pl.when(_HEARD & key).then(capacity).otherwise(0).alias("_key_heard_capacity"),
        (_SILENT & key).alias("_key_silent"),
        (_SILENT & _HEARD).alias("_silent"),
        (_HEARD & key).alias("_key_heard"),
    )


def _aggregations() -> list[pl.Expr]:
    return [
        pl.len().alias("hubs"),
        pl.col("_heard").sum().alias("hubs_reporting"),
        *[pl.col(f"_hubs_{level}").sum().alias(f"hubs_{level}") for level in LEVELS],
        pl.col("backlog").sum().alias("backlog"),
        pl.col("storage_capacity").sum().alias("storage_capacity"),
        pl.col("arrival_rate_per_min").sum().alias("arrivals_per_min"),
        pl.col("departure_rate_per_min").sum().alias("departures_per_min"),
        pl.col("arrivals_30m").sum().alias("arrivals_30m"),
        pl.col("departures_30m").sum().alias("departures_30m"),
        *[
            pl.col(f"_{term}").sum()
            for term in (
                "orange_capacity",
                "heard_capacity",
                "key_orange_capacity",
                "key_heard_capacity",
                "key_silent",
                "key_heard",
                "silent",
            )
        ],
        pl.col("key_node").sum().alias("key_nodes"),
        pl.col("level").max().alias("worst_hub_level"),
    ]


def _finish(frame: pl.LazyFrame, *keys: str) -> pl.LazyFrame:
    return frame.select(
        *keys,
        "hubs",
        "hubs_reporting",
        *[f"hubs_{level}" for level in LEVELS],
        "backlog",
        "storage_capacity",
        "arrivals_per_min",
        "departures_per_min",
        "arrivals_30m",
        "departures_30m",
        _share(pl.col("_orange_capacity"), pl.col("_heard_capacity")).alias(
            "orange_capacity_ratio"
        ),
        "key_nodes",
        _share(pl.col("_key_orange_capacity"), pl.col("_key_heard_capacity")).alias(
            "key_nodes_orange_capacity_ratio"
        ),
        _share(pl.col("_key_silent"), pl.col("_key_heard")).alias("key_nodes_silent_ratio"),
        _share(pl.col("_silent"), pl.col("hubs_reporting")).alias("hubs_silent_ratio"),
        "worst_hub_level",
        _share(pl.col("backlog"), pl.col("storage_capacity")).alias("utilization"),
        pl.when(pl.col("arrivals_30m") > 0)
        .then(pl.col("departures_30m") / pl.col("arrivals_30m"))
        .alias("departure_arrival_ratio"),
    )


def _by_province(hub_states: pl.DataFrame) -> pl.LazyFrame:
    return _by_province_from(_province_sums(hub_states))


def _by_province_from(sums: pl.LazyFrame) -> pl.LazyFrame:
    return _finish(sums, "province").sort(
        ["worst_hub_level", "orange_capacity_ratio", "province"], descending=[True, True, False]
    )


def _province_sums(hub_states: pl.DataFrame, *keys: str) -> pl.LazyFrame:
    return _counted(hub_states).group_by("province", *keys).agg(_aggregations())


def province_sums(hub_states: pl.DataFrame, *keys: str) -> pl.DataFrame:
    """The per-province sums behind every province and network figure, grouped also by
    ``keys`` (e.g. ``partition``): sums of parts add up to the sums of the whole."""
    return _province_sums(hub_states, *keys).collect()


def combine_sums(sums: pl.DataFrame) -> pl.LazyFrame:
    """Sums of parts (``province_sums`` of several replicas' hubs) added up per province."""
    return (
        sums.lazy()
        .group_by("province")
        .agg(pl.exclude("province", "worst_hub_level").sum(), pl.col("worst_hub_level").max())
        .select(sums.columns)
    )


def _national(hub_states: pl.DataFrame) -> pl.LazyFrame:
    return _finish(_counted(hub_states).select(_aggregations()))


def _national_dict(frame: pl.DataFrame) -> dict[str, Any]:
    row = frame.to_dicts()[0]
    row["worst_hub_level"] = (
        str(row["worst_hub_level"]) if row["worst_hub_level"] is not None else "unknown"
    )
    return row


def province_rollup(hub_states: pl.DataFrame) -> pl.DataFrame:
    """One row per province, worst first."""
    return _by_province(hub_states).collect()


def carrier_rollup(hub_states: pl.DataFrame) -> pl.DataFrame:
    """One row per carrier."""
    by_carrier = _counted(hub_states).group_by("carrier").agg(_aggregations())
    return _finish(by_carrier, "carrier").sort("carrier").collect()


def national_rollup(hub_states: pl.DataFrame) -> dict[str, Any]:
    """National totals as a plain dict (JSON-ready)."""
    return _national_dict(_national(hub_states).collect())


def province_and_national_rollups(
    hub_states: pl.DataFrame,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """``province_rollup`` and ``national_rollup`` of the same states, computed together (the
    nation's sums are the sums of the provinces')."""
    return rollups_from_sums(_province_sums(hub_states).collect())


def rollups_from_sums(province_sums: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, Any]]:
    """``province_and_national_rollups`` from per-province sums (``combine_sums`` first when
    they come in parts)."""
    sums = province_sums.lazy()
    national = sums.select(
        pl.exclude("province", "worst_hub_level").sum(), pl.col("worst_hub_level").max()
    )
    provinces, nation = pl.collect_all([_by_province_from(sums), _finish(national)])
    return provinces, _national_dict(nation)
