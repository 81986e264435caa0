"""Per-hub running state, updated per batch with a few Polars aggregations (run in parallel).

    hubs     one row per hub seen: totals, backlog anchor, settled flows, last event, partition
    buckets  (hub_id, minute) arrivals and departures over the horizon (default 3 h)
    flows    (hub_id, second) net flow after the hub's backlog anchor, not yet settled
    lanes    (src, dst) parcels departed towards dst and arrived from src (in transit)

Backlog reconciliation: a ``backlog`` observation at T is the truth as of T (the *anchor*); net
flows stamped after T are added; flows stamped at or before T are already in it and dropped, also
when they arrive late. Flows behind the watermark are folded into ``settled_net`` so that the
flows kept stay bounded. New batches are appended; ``compact(settle_s)`` merges and prunes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

HUBS_SCHEMA: dict[str, pl.DataType] = {
    "hub_id": pl.String(),
    "partition": pl.Int32(),
    "arrivals_total": pl.Int64(),
    "departures_total": pl.Int64(),
    "anchor_backlog": pl.Int64(),
    "anchor_ms": pl.Int64(),
    "settled_net": pl.Int64(),
    "settled_to_s": pl.Int64(),
    "last_event_ms": pl.Int64(),
}
BUCKET_SCHEMA: dict[str, pl.DataType] = {
    "hub_id": pl.String(),
    "minute": pl.Int64(),
    "arrivals": pl.Int64(),
    "departures": pl.Int64(),
}
FLOW_SCHEMA: dict[str, pl.DataType] = {"hub_id": pl.String(), "ts_s": pl.Int64(), "net": pl.Int64()}
LANE_SCHEMA: dict[str, pl.DataType] = {
    "src": pl.String(),
    "dst": pl.String(),
    "departed": pl.Int64(),
    "arrived": pl.Int64(),
    "last_ms": pl.Int64(),
}
_COMPACT_AFTER = 16  # appended frames before a merge


def _empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


@dataclass
class HubStore:
    """All per-hub state of one engine."""

    hubs: pl.DataFrame = field(default_factory=lambda: _empty(HUBS_SCHEMA))
    buckets: list[pl.DataFrame] = field(default_factory=list)
    flows: list[pl.DataFrame] = field(default_factory=list)
    lanes: list[pl.DataFrame] = field(default_factory=list)

    def apply(self, events: pl.DataFrame) -> None:
        """Add a batch (``ts_ms``, ``minute``, ``partition`` and the event columns)."""
        if events.height == 0:
            return
        lazy = events.lazy().with_columns(
            arr=pl.when(pl.col("kind") == "arrival").then(pl.col("parcels")).otherwise(0),
            dep=pl.when(pl.col("kind") == "departure").then(pl.col("parcels")).otherwise(0),
        )
        flows = lazy.filter(pl.col("kind") != "backlog")
        is_backlog = pl.col("kind") == "backlog"
        obs_ms = pl.col("ts_ms").filter(is_backlog).max()
        per_hub, buckets, net, departed, arrived = pl.collect_all(
            [
                lazy.group_by("hub_id").agg(
                    pl.col("partition").last(),
                    pl.col("arr").sum().alias("arrivals"),
                    pl.col("dep").sum().alias("departures"),
                    pl.col("ts_ms").max().alias("last_ms"),
                    # the latest observation; at the same instant the larger count (any order)
                    pl.col("parcels")
                    .filter(is_backlog & (pl.col("ts_ms") == obs_ms))
                    .max()
                    .alias("obs"),
                    obs_ms.alias("obs_ms"),
                ),
                flows.group_by("hub_id", "minute").agg(
                    pl.col("arr").sum().alias("arrivals"), pl.col("dep").sum().alias("departures")
                ),
                flows.group_by("hub_id", (pl.col("ts_ms") // 1000).alias("ts_s")).agg(
                    (pl.col("arr") - pl.col("dep")).sum().alias("net")
                ),
                lazy.filter(pl.col("to_hub").is_not_null())
                .group_by(pl.col("hub_id").alias("src"), pl.col("to_hub").alias("dst"))
                .agg(pl.col("dep").sum().alias("departed"), pl.col("ts_ms").max().alias("last_ms")),
                lazy.filter(pl.col("from_hub").is_not_null())
                .group_by(pl.col("from_hub").alias("src"), pl.col("hub_id").alias("dst"))
                .agg(pl.col("arr").sum().alias("arrived"), pl.col("ts_ms").max().alias("last_ms")),
            ]
        )
        self._merge_hubs(per_hub)
        self.buckets.append(buckets)
        self.flows.append(net)
        lanes = pl.concat(
            [
                departed.with_columns(arrived=pl.lit(0, pl.Int64)),
                arrived.with_columns(departed=pl.lit(0, pl.Int64)),
            ],
            how="diagonal",
        ).select(list(LANE_SCHEMA))
        self.lanes.append(lanes)
        if len(self.buckets) > _COMPACT_AFTER:
            self.compact(None)

    def _merge_hubs(self, per_hub: pl.DataFrame) -> None:
        joined = self.hubs.join(per_hub, on="hub_id", how="full", coalesce=True)
        old_anchor = pl.col("anchor_ms")
        settled_ms = pl.col("settled_to_s") * 1000
        newer = pl.col("obs_ms").is_not_null() & (
            old_anchor.is_null()
            | (pl.col("obs_ms") > old_anchor)
            | ((pl.col("obs_ms") == old_anchor) & (pl.col("obs") > pl.col("anchor_backlog")))
        )
        # A backlog observation behind the settled point (later than the allowed lateness) is
        # applied as if stamped at that point: the flows between are already folded.
        anchor_at = pl.max_horizontal(pl.col("obs_ms"), settled_ms.fill_null(pl.col("obs_ms")))
        self.hubs = joined.select(
            "hub_id",
            pl.coalesce("partition_right", "partition").cast(pl.Int32).alias("partition"),
            (pl.col("arrivals_total").fill_null(0) + pl.col("arrivals").fill_null(0)).alias(
                "arrivals_total"
            ),
            (pl.col("departures_total").fill_null(0) + pl.col("departures").fill_null(0)).alias(
                "departures_total"
            ),
            pl.when(newer)
            .then(pl.col("obs"))
            .otherwise(pl.col("anchor_backlog"))
            .alias("anchor_backlog"),
            pl.when(newer).then(anchor_at).otherwise(old_anchor).alias("anchor_ms"),
            pl.when(newer)
            .then(0)
            .otherwise(pl.col("settled_net").fill_null(0))
            .alias("settled_net"),
            "settled_to_s",
            pl.max_horizontal("last_event_ms", "last_ms").alias("last_event_ms"),
        ).cast(HUBS_SCHEMA)  # type: ignore[arg-type]

    def compact(
        self, settle_s: int | None, *, horizon_min: int = 180, max_transit_s: int = 172_800
    ) -> None:
        """Merge appended frames; fold flows up to ``settle_s`` into ``settled_net``; prune."""
        buckets = pl.concat(self.buckets) if self.buckets else _empty(BUCKET_SCHEMA)
        buckets = buckets.group_by("hub_id", "minute").agg(
            pl.col("arrivals").sum(), pl.col("departures").sum()
        )
        flows = pl.concat(self.flows) if self.flows else _empty(FLOW_SCHEMA)
        flows = flows.join(self.hubs.select("hub_id", "anchor_ms"), on="hub_id", how="left")
        flows = flows.filter(
            pl.col("anchor_ms").is_null() | (pl.col("ts_s") * 1000 > pl.col("anchor_ms"))
        )
        lanes = pl.concat(self.lanes) if self.lanes else _empty(LANE_SCHEMA)
        lanes = lanes.group_by("src", "dst").agg(
            pl.col("departed").sum(), pl.col("arrived").sum(), pl.col("last_ms").max()
        )
        if settle_s is not None:
            buckets = buckets.filter(pl.col("minute") >= settle_s // 60 - horizon_min)
            lanes = lanes.filter(pl.col("last_ms") >= (settle_s - max_transit_s) * 1000)
            settled = (
                flows.filter(pl.col("ts_s") <= settle_s)
                .group_by("hub_id")
                .agg(pl.col("net").sum().alias("fold"))
            )
            flows = flows.filter(pl.col("ts_s") > settle_s)
            self.hubs = (
                self.hubs.join(settled, on="hub_id", how="left")
                .with_columns(
                    settled_net=pl.col("settled_net") + pl.col("fold").fill_null(0),
                    settled_to_s=pl.max_horizontal("settled_to_s", pl.lit(settle_s, pl.Int64)),
                )
                .drop("fold")
            )
        flows = flows.group_by("hub_id", "ts_s").agg(pl.col("net").sum())
        self.buckets = [buckets.select(list(BUCKET_SCHEMA))]
        self.flows = [flows.select(list(FLOW_SCHEMA))]
        self.lanes = [lanes.select(list(LANE_SCHEMA))]

    def backlog(self) -> pl.DataFrame:
        """``hub_id``, ``backlog`` (never below 0) of every hub seen; call after ``compact``."""
        kept = (
            self.flows[0].group_by("hub_id").agg(pl.col("net").sum().alias("kept"))
            if self.flows
            else None
        )
        frame = self.hubs.select("hub_id", "anchor_backlog", "settled_net")
        if kept is not None:
            frame = frame.join(kept, on="hub_id", how="left")
        else:
            frame = frame.with_columns(kept=pl.lit(0, pl.Int64))
        return frame.select(
            "hub_id",
            pl.max_horizontal(
                pl.col("anchor_backlog").fill_null(0)
                + pl.col("settled_net")
                + pl.col("kept").fill_null(0),
                pl.lit(0),
            ).alias("backlog"),
        )

    def in_transit(self) -> pl.DataFrame:
        """``hub_id``, ``in_transit_parcels``: departed towards the hub and not yet arrived."""
        lanes = self.lanes[0] if self.lanes else _empty(LANE_SCHEMA)
        return lanes.group_by(pl.col("dst").alias("hub_id")).agg(
            (pl.col("departed") - pl.col("arrived"))
            .clip(lower_bound=0)
            .sum()
            .alias("in_transit_parcels")
        )

    def lanes_of(self, hub_ids: pl.Series) -> pl.DataFrame:
        """The lane counts made by the events of ``hub_ids``: departures on lanes leaving them,
        arrivals on lanes reaching them. A lane between hubs of two partitions is split between
        the two owners, so that their checkpoints add up exactly. Call after ``compact``."""
        ids = hub_ids.implode()
        src, dst = pl.col("src").is_in(ids), pl.col("dst").is_in(ids)
        return (
            self.lanes[0]
            .filter(src | dst)
            .with_columns(
                departed=pl.when(src).then(pl.col("departed")).otherwise(0),
                arrived=pl.when(dst).then(pl.col("arrived")).otherwise(0),
            )
        )

    def drop_partitions(self, partitions: set[int]) -> None:
        """Forget the hubs of ``partitions`` and their side of the lanes."""
        self.compact(None)
        gone = self.hubs.filter(pl.col("partition").is_in(list(partitions)))["hub_id"].implode()
        self.hubs = self.hubs.filter(~pl.col("hub_id").is_in(gone))
        self.buckets = [self.buckets[0].filter(~pl.col("hub_id").is_in(gone))]
        self.flows = [self.flows[0].filter(~pl.col("hub_id").is_in(gone))]
        self.lanes = [self.lanes_of(self.hubs["hub_id"])]
