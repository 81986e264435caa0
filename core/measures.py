"""Hub measures at the watermark: rates, backlog, utilisation, time to overflow, saturation,
freshness — one row per registered hub (``HUB_STATE_SCHEMA``).

The rates use the minutes before the watermark, so the same events give the same measures
whether they arrive live or replayed.
"""

from __future__ import annotations

import polars as pl

from core.config import RiskConfig
from core.levels import LEVEL_DTYPE
from core.registry import HUB_SCHEMA
from core.state import HUB_ID, HubStore

TS = pl.Datetime("ms", "UTC")

HUB_STATE_SCHEMA: dict[str, pl.DataType] = {
    **HUB_SCHEMA,
    "arrivals_total": pl.Int64(),
    "departures_total": pl.Int64(),
    "backlog": pl.Int64(),
    "utilization": pl.Float64(),
    "arrival_rate_per_min": pl.Float64(),
    "departure_rate_per_min": pl.Float64(),
    "net_inflow_per_min": pl.Float64(),
    "in_transit_parcels": pl.Int64(),
    "time_to_overflow_s": pl.Float64(),
    "sorting_saturated": pl.Boolean(),
    "saturation_ratio": pl.Float64(),
    "arrivals_30m": pl.Int64(),
    "departures_30m": pl.Int64(),
    "last_event_at": TS,
    "silent_for_s": pl.Float64(),
    "overflow_level": LEVEL_DTYPE,
    "saturation_level": LEVEL_DTYPE,
    "silent_level": LEVEL_DTYPE,
    "level": LEVEL_DTYPE,
    "at": TS,
}
"""One hub's state at the watermark; also the row published on ``hub-status``."""


def _saturated(store: HubStore, frame: pl.DataFrame, end_min: int, sat_min: int) -> pl.DataFrame:
    """``hub_id``, ``sorting_saturated``: every minute of the window has arrivals above the
    sorting capacity. Only hubs whose average is above it can be, so only they are checked
    minute by minute."""
    capacity = pl.col("sort_capacity_per_hour")
    candidates = frame.filter(
        pl.col("last_event_ms").is_not_null(),
        capacity > 0,
        pl.col("minutes_sat") >= sat_min,
        pl.col("arrivals_sat") * 60 > capacity * sat_min,
    ).select("hub_id", "sort_capacity_per_hour")
    if candidates.height == 0:
        return pl.DataFrame(schema={"hub_id": HUB_ID, "sorting_saturated": pl.Boolean()})
    return (
        store.window(end_min - sat_min, end_min)
        .join(candidates, on="hub_id")
        .group_by("hub_id")
        .agg(((pl.col("arrivals") * 60 > capacity).sum() >= sat_min).alias("sorting_saturated"))
    )


def measure(
    store: HubStore, registry: pl.DataFrame, *, watermark_ms: int | None, config: RiskConfig
) -> pl.DataFrame:
    """Every registered hub's measures at ``watermark_ms`` (call ``store.compact`` first)."""
    end_min = (watermark_ms or 0) // 60_000
    rate_min = max(1, config.rate_window_s // 60)
    sat_min = max(1, config.saturation_window_s // 60)
    spans = (
        ("rate", rate_min),
        ("30m", max(1, config.network_flow_window_s // 60)),
        ("sat", sat_min),
    )
    frame = (
        registry.lazy()
        .with_columns(pl.col("hub_id").cast(HUB_ID))
        .join(store.hubs.lazy(), on="hub_id", how="left")
        .join(store.backlog_query(), on="hub_id", how="left")
        .join(store.in_transit_query(), on="hub_id", how="left")
        .join(store.window_sums(end_min, spans).lazy(), on="hub_id", how="left")
        .collect()
    )
    frame = frame.join(_saturated(store, frame, end_min, sat_min), on="hub_id", how="left")
    watermark = pl.lit(watermark_ms, pl.Int64)
    capacity = pl.col("storage_capacity")
    arrival_rate = pl.col("arrivals_rate").fill_null(0) / rate_min
    departure_rate = pl.col("departures_rate").fill_null(0) / rate_min
    in_transit = pl.col("in_transit_parcels").fill_null(0)
    # In-transit parcels raise the expected arrival rate when they imply more than is arriving
    # now (an upstream surge on its way); in steady state they change nothing. They are spread
    # over the transit-time bound the store counts them within (``in_transit_horizon_s``, as
    # passed to ``HubStore.compact``): a lane's steady flow then never exceeds its own rate.
    expected_arrivals = pl.max_horizontal(arrival_rate, in_transit / (store.transit_horizon_s / 60))
    growth = expected_arrivals - departure_rate
    free = capacity - pl.col("backlog")
    heard = pl.col("last_event_ms").is_not_null()
    return (
        frame.lazy()
        .select(
            pl.col("hub_id").cast(pl.String),
            *list(HUB_SCHEMA)[1:],
            pl.col("arrivals_total").fill_null(0),
            pl.col("departures_total").fill_null(0),
            pl.when(heard).then(pl.col("backlog")).alias("backlog"),
            pl.when(heard & (capacity > 0)).then(pl.col("backlog") / capacity).alias("utilization"),
            pl.when(heard).then(arrival_rate).alias("arrival_rate_per_min"),
            pl.when(heard).then(departure_rate).alias("departure_rate_per_min"),
            pl.when(heard).then(arrival_rate - departure_rate).alias("net_inflow_per_min"),
            in_transit.alias("in_transit_parcels"),
            pl.when(heard & (capacity > 0) & (growth > 0))
            .then(pl.max_horizontal(free, pl.lit(0)) / growth * 60)
            .alias("time_to_overflow_s"),
            # a hub without a sorting capacity configured is not rated (as for storage)
            pl.col("sorting_saturated").fill_null(False),  # no sorting capacity: not rated
            pl.when(pl.col("sort_capacity_per_hour") > 0)
            .then(
                pl.col("arrivals_sat").fill_null(0)
                / sat_min
                * 60
                / pl.col("sort_capacity_per_hour")
            )
            .alias("saturation_ratio"),
            pl.col("arrivals_30m").fill_null(0),
            pl.col("departures_30m").fill_null(0),
            pl.col("last_event_ms").cast(TS).alias("last_event_at"),
            pl.when(heard)
            .then((watermark - pl.col("last_event_ms")).clip(lower_bound=0) / 1000)
            .alias("silent_for_s"),
            pl.lit(watermark_ms, pl.Int64).cast(TS).alias("at"),
        )
        .collect()
    )
