"""Lanes: parcels departed towards a hub and not yet arrived there (in transit).

    rows(events)                   a batch's rows (per event)
    merge(lanes, new)              lanes with a batch's rows added
    settle(lanes, now_s, ...)      counts past the transit-time bound expired
    in_transit(lanes)              hub_id, in_transit_parcels as of the last ``settle``
    split(lanes, hub_ids)          the counts made by the events of some hubs (checkpoints)
    combined(*lanes)               several splits as one

A lane (src → dst) joins two registered hubs of one carrier (``core.registry.check_events``), so
lanes are bounded by the registry. The frame is sorted by ``bucket_s``; its rows:

    src, dst, LANE     a lane's totals: departures of src with to_hub = dst, arrivals at dst with
                       from_hub = src, and ``expired``, the departures past the bound
    null, dst, LANE    a hub's arrivals that name no source, and ``expired``, those past the bound
    src, dst, bucket   a lane's departures stamped in that bucket, not expired yet
    null, dst, bucket  a hub's arrivals naming no source stamped in that bucket, not expired yet

The rule (docs/risk-model.md, "In-transit pressure"), with the bound ``H``:

- a departure is on the road for at most ``H`` (the transit-time bound): at each step the
  departures of the buckets that started more than ``H`` before it expire;
- a lane whose arrivals name it: those arrivals take off its oldest departures first (FIFO), so
  in transit = min(departed − arrived, departed − expired), never below 0;
- the other lanes towards a hub, together: the hub's arrivals that name no source within the
  bound take off their departures within the bound: max(0, departed − arrived, both within H).

Only the totals are read, and a step touches the buckets it adds to and the one that expires:
the cost of a step follows its batch, not the state. Every row is a sum of events, so the state
does not depend on batching or order within a step, and a checkpoint split between owners
(departures with the source, arrivals with the destination) adds up exactly.
"""

from __future__ import annotations

import polars as pl

BUCKET_S = 900
"""Width of a bucket: departures and unnamed arrivals expire to within 15 minutes."""
LANE = -(2**63)
"""``bucket_s`` of the totals rows (sorts before every bucket)."""
LANE_SCHEMA: dict[str, pl.DataType] = {
    "src": pl.Categorical(),  # hub ids as the state holds them (core.state.HUB_ID)
    "dst": pl.Categorical(),
    "bucket_s": pl.Int64(),
    "departed": pl.Int64(),
    "arrived": pl.Int64(),
    "expired": pl.Int64(),
    "last_ms": pl.Int64(),
}
_COLUMNS = list(LANE_SCHEMA)
_KEY = ("src", "dst", "bucket_s")
_SUMS = (
    pl.col("departed").sum(),
    pl.col("arrived").sum(),
    pl.col("expired").sum(),
    pl.col("last_ms").max(),
)
_IS_TOTAL = pl.col("bucket_s") == LANE
_NAMED = pl.col("src").is_not_null()


def empty() -> pl.DataFrame:
    """No lanes."""
    return pl.DataFrame(schema=LANE_SCHEMA)


def rows(events: pl.LazyFrame) -> pl.LazyFrame:
    """The rows of a batch, one totals row and one bucket row per event, not grouped (``merge``
    groups them with the state's): every arrival, and departures to a hub. ``events``: hub_id,
    from_hub, to_hub as hub-id categories, kind, parcels, ts_ms."""
    arrival = pl.col("kind") == "arrival"
    departure = (pl.col("kind") == "departure") & pl.col("to_hub").is_not_null()
    per_event = events.filter((arrival | departure) & (pl.col("parcels") > 0)).select(
        pl.when(arrival).then(pl.col("from_hub")).otherwise(pl.col("hub_id")).alias("src"),
        pl.when(arrival).then(pl.col("hub_id")).otherwise(pl.col("to_hub")).alias("dst"),
        (pl.col("ts_ms") // 1000 // BUCKET_S * BUCKET_S).alias("bucket_s"),
        pl.when(arrival).then(0).otherwise(pl.col("parcels")).alias("departed"),
        pl.when(arrival).then(pl.col("parcels")).otherwise(0).alias("arrived"),
        pl.lit(0, pl.Int64).alias("expired"),
        pl.col("ts_ms").alias("last_ms"),
    )
    return pl.concat(
        [
            per_event.with_columns(bucket_s=pl.lit(LANE, pl.Int64)),
            # buckets only for what expires: departures, and arrivals that name no source
            per_event.filter(~_NAMED | (pl.col("departed") > 0)),
        ]
    )


def merge(lanes: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """``lanes`` with ``new`` (rows of batches) added: the totals and the buckets from the
    oldest new one are regrouped (in one grouping), the buckets before it kept as they are."""
    first = new.filter(~_IS_TOTAL)["bucket_s"].min()
    total_count = _index(lanes, LANE + 1)
    split = lanes.height if first is None else _index(lanes, int(first))  # type: ignore[arg-type]
    regrouped = (
        pl.concat([lanes.slice(0, total_count), lanes.slice(split), new])
        .group_by(_KEY)
        .agg(*_SUMS)
        .sort("bucket_s")
        .select(_COLUMNS)
    )
    totals = _index(regrouped, LANE + 1)
    middle = lanes.slice(total_count, split - total_count)
    return pl.concat([regrouped.slice(0, totals), middle, regrouped.slice(totals)], rechunk=False)


def settle(lanes: pl.DataFrame, now_s: int, *, horizon_s: int, idle_s: int) -> pl.DataFrame:
    """Expire the buckets that started before ``now_s − horizon_s`` into their totals; forget
    the totals without an event for ``idle_s`` (and nothing left within the bound)."""
    start_s = now_s - horizon_s
    total_count, split = _index(lanes, LANE + 1), _index(lanes, start_s)
    idle_ms = min(now_s - idle_s, start_s) * 1000
    totals = lanes.slice(0, total_count)
    stale = totals.height > 0 and totals["last_ms"].min() < idle_ms  # type: ignore[operator]
    if split == total_count and not stale:
        return lanes
    expiring = (
        lanes.slice(total_count, split - total_count)
        .lazy()
        .group_by("src", "dst")
        .agg((pl.col("departed") + pl.col("arrived")).sum().alias("expiring"))
    )
    totals = (
        totals.lazy()
        .join(expiring, on=["src", "dst"], how="left", nulls_equal=True)
        .with_columns(expired=pl.col("expired") + pl.col("expiring").fill_null(0))
        .filter(pl.col("last_ms") >= idle_ms)
        .select(_COLUMNS)
        .collect()
    )
    return pl.concat([totals, lanes.slice(split)], rechunk=False)


def in_transit(lanes: pl.DataFrame) -> pl.LazyFrame:
    """``hub_id``, ``in_transit_parcels`` (> 0 only) as of the last ``settle``, from the totals
    alone: the rule of the module."""
    totals = lanes.slice(0, _index(lanes, LANE + 1)).lazy()
    on_road = pl.col("departed") - pl.col("expired")
    matched = pl.col("arrived") > 0
    lane = (
        totals.filter(_NAMED)
        .group_by("dst")
        .agg(
            pl.min_horizontal(pl.col("departed") - pl.col("arrived"), on_road)
            .clip(lower_bound=0)
            .filter(matched)
            .sum()
            .alias("named"),
            on_road.filter(~matched).sum().alias("unnamed"),
        )
    )
    received = totals.filter(~_NAMED).select(
        "dst", (pl.col("arrived") - pl.col("expired")).alias("received")
    )
    return (
        lane.join(received, on="dst", how="left")
        .select(
            pl.col("dst").alias("hub_id"),
            (
                pl.col("named")
                + (pl.col("unnamed") - pl.col("received").fill_null(0)).clip(lower_bound=0)
            ).alias("in_transit_parcels"),
        )
        .filter(pl.col("in_transit_parcels") > 0)
    )


def split(lanes: pl.DataFrame, hub_ids: pl.Series) -> pl.DataFrame:
    """The counts made by the events of ``hub_ids``: departures (and their expiry) on lanes
    leaving them, arrivals (and the expiry of those naming no source) at them. The splits of
    all owners add up to ``lanes``."""
    ids = hub_ids.cast(LANE_SCHEMA["src"]).implode()
    src, dst = pl.col("src").is_in(ids).fill_null(False), pl.col("dst").is_in(ids)
    return (
        lanes.filter(src | dst)
        .with_columns(
            departed=pl.when(src).then(pl.col("departed")).otherwise(0),
            expired=pl.when(src | ~_NAMED).then(pl.col("expired")).otherwise(0),
            arrived=pl.when(dst).then(pl.col("arrived")).otherwise(0),
        )
        .filter((pl.col("departed") > 0) | (pl.col("arrived") > 0))
    )


def combined(*frames: pl.DataFrame) -> pl.DataFrame:
    """Lanes of several stores (or checkpoints) as one: each row summed, sorted."""
    return (
        pl.concat([upgraded(frame).lazy() for frame in frames])
        .group_by(_KEY)
        .agg(*_SUMS)
        .sort("bucket_s")
        .select(_COLUMNS)
        .collect()
    )


def upgraded(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` in ``LANE_SCHEMA``. Lanes of checkpoints written before departures had times
    (src, dst, departed, arrived, last_ms) become lane totals with every departure expired: none
    counts as on the road, and arrivals naming those lanes keep them matched."""
    if "bucket_s" not in frame.columns:
        frame = frame.with_columns(bucket_s=pl.lit(LANE, pl.Int64), expired=pl.col("departed"))
    return frame.select(_COLUMNS).cast(LANE_SCHEMA)  # type: ignore[arg-type]


def _index(lanes: pl.DataFrame, bucket_s: int) -> int:
    """Index of the first row at ``bucket_s`` or later."""
    return int(lanes["bucket_s"].search_sorted(bucket_s, side="left"))
