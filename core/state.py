"""Per-hub running state. A batch is reduced in one Polars call and queued; ``compact`` merges the
queue into the state (at every evaluation tick, and every few batches during a replay).

    hubs     one row per hub seen: totals, backlog anchor, settled flows, last event, partition
    buckets  (hub_id, minute) arrivals and departures over the horizon (default 3 h), sorted by
             minute, so that a window is a slice and a merge only touches the newest minutes
    flows    (hub_id, second, net) flows after the hub's backlog anchor, not yet settled
    lanes    (src, dst) totals and (src, dst, 15-min bucket) departures within the transit-time
             bound: the parcels in transit towards each hub (core.lanes)

Backlog reconciliation: a ``backlog`` observation at T is the truth as of T (the *anchor*); net
flows stamped after T are added; flows stamped at or before T are already in it and dropped, also
when they arrive late. Flows behind the watermark are folded into ``settled_net`` so that the
flows kept stay bounded. A backlog observation older than the settled point is taken as the
backlog at that point (the flows in between are folded and cannot be separated again).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from core import lanes as lane_rows
from core import windows
from core.config import RiskConfig

HUB_ID = pl.Categorical()
"""Hub ids are held as categories: joins and groupings compare integers, not strings."""

HUBS_SCHEMA: dict[str, pl.DataType] = {
    "hub_id": HUB_ID,
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
    "hub_id": HUB_ID,
    "minute": pl.Int64(),
    "arrivals": pl.Int64(),
    "departures": pl.Int64(),
}
FLOW_SCHEMA: dict[str, pl.DataType] = {"hub_id": HUB_ID, "ts_s": pl.Int64(), "net": pl.Int64()}
DEFAULT_TRANSIT_HORIZON_S: int = RiskConfig.model_fields["in_transit_horizon_s"].default
COMPACT_AFTER = 16  # queued batches that call for a merge even without an evaluation tick
_MAX_CHUNKS = 32  # buckets are rechunked (and pruned memory freed) beyond this


def _empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


@dataclass(frozen=True)
class _Reduced:
    """One batch, reduced: per (hub, minute) counts, flows, backlog observations, lane rows."""

    minutes: pl.DataFrame  # hub_id, minute, arrivals, departures, last_ms, partition
    flows: pl.DataFrame  # FLOW_SCHEMA
    observations: pl.DataFrame  # hub_id, ts_ms, parcels
    lanes: pl.DataFrame  # LANE_SCHEMA, one row per (src, dst, bucket)


def _reduce(events: pl.DataFrame) -> _Reduced:
    lazy = events.lazy().with_columns(
        pl.col("hub_id", "from_hub", "to_hub").cast(HUB_ID),
        arr=pl.when(pl.col("kind") == "arrival").then(pl.col("parcels")).otherwise(0),
        dep=pl.when(pl.col("kind") == "departure").then(pl.col("parcels")).otherwise(0),
    )
    is_backlog = pl.col("kind") == "backlog"
    minutes, flows, observations, lanes = pl.collect_all(
        [
            lazy.group_by("hub_id", "minute").agg(
                pl.col("arr").sum().alias("arrivals"),
                pl.col("dep").sum().alias("departures"),
                pl.col("ts_ms").max().alias("last_ms"),
                pl.col("partition").last(),
            ),
            lazy.filter(~is_backlog).select(
                "hub_id",
                (pl.col("ts_ms") // 1000).alias("ts_s"),
                (pl.col("arr") - pl.col("dep")).alias("net"),
            ),
            lazy.filter(is_backlog).select("hub_id", "ts_ms", "parcels"),
            lane_rows.rows(lazy),
        ]
    )
    return _Reduced(minutes, flows, observations, lanes)


def _merged_hubs(
    hubs: pl.LazyFrame, minutes: pl.LazyFrame, observations: pl.LazyFrame
) -> pl.LazyFrame:
    """``hubs`` with the queued batches' totals, last events and backlog observations."""
    latest = (
        observations.sort("ts_ms", "parcels")  # the latest; at the same instant the largest
        .group_by("hub_id")
        .agg(pl.col("ts_ms").last().alias("obs_ms"), pl.col("parcels").last().alias("obs"))
    )
    per_hub = (
        minutes.group_by("hub_id")
        .agg(
            pl.col("partition").last(),
            pl.col("arrivals").sum(),
            pl.col("departures").sum(),
            pl.col("last_ms").max(),
        )
        .join(latest, on="hub_id", how="left")
    )
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
    return (
        hubs.join(per_hub, on="hub_id", how="full", coalesce=True)
        .select(
            "hub_id",
            pl.coalesce("partition_right", "partition").alias("partition"),
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
        )
        .cast(HUBS_SCHEMA)  # type: ignore[arg-type]
    )


@dataclass
class HubStore:
    """All per-hub state of one engine."""

    hubs: pl.DataFrame = field(default_factory=lambda: _empty(HUBS_SCHEMA))
    buckets: pl.DataFrame = field(default_factory=lambda: _empty(BUCKET_SCHEMA))
    flows: pl.DataFrame = field(default_factory=lambda: _empty(FLOW_SCHEMA))
    lanes: pl.DataFrame = field(default_factory=lane_rows.empty)
    transit_horizon_s: int = DEFAULT_TRANSIT_HORIZON_S  # departures count this long (core.lanes)
    queued: list[_Reduced] = field(default_factory=list)
    window_cache: windows.WindowSums | None = None
    first_kept_minute: int | None = None  # buckets before it are pruned

    def apply(self, events: pl.DataFrame) -> None:
        """Queue a batch (``ts_ms``, ``minute``, ``partition`` and the event columns)."""
        if events.height:
            self.queued.append(_reduce(events))

    def compact(
        self,
        settle_s: int | None,
        *,
        horizon_min: int = 180,
        max_transit_s: int = 172_800,
        in_transit_horizon_s: int | None = None,
    ) -> None:
        """Merge the queued batches; fold flows up to ``settle_s`` into ``settled_net``; prune.

        ``settle_s`` is the step (now): lane departures older than the transit-time bound
        (``in_transit_horizon_s``, kept as ``transit_horizon_s``) expire, and a lane without
        events for ``max_transit_s`` is forgotten."""
        if in_transit_horizon_s is not None:
            self.transit_horizon_s = in_transit_horizon_s
        flows = self.flows.lazy()
        if self.queued:
            flows = self._merge(self.queued)
            self.queued = []
        if settle_s is None:
            self.flows = flows.collect()
        else:
            self._settle(flows, settle_s, max_transit_s)
            self.first_kept_minute = settle_s // 60 - horizon_min
            self.buckets = self.buckets.slice(self._minute_index(self.first_kept_minute))
        if self.buckets.n_chunks() > _MAX_CHUNKS:
            self.buckets = self.buckets.rechunk()
        if self.lanes.n_chunks() > _MAX_CHUNKS:
            self.lanes = self.lanes.rechunk()

    def _merge(self, queued: list[_Reduced]) -> pl.LazyFrame:
        """Add queued batches: hub totals and anchors, buckets, lanes. Only the buckets from the
        oldest minute touched are regrouped. Returns the flows after the (moved) anchors."""
        minutes = pl.concat([r.minutes for r in queued])
        first = int(minutes["minute"].min())  # type: ignore[arg-type]
        if self.window_cache is not None and first < self.window_cache.end_minute:
            self.window_cache = None  # a late event changed a minute inside the windows
        split = self._minute_index(first)
        head, tail = self.buckets.slice(0, split), self.buckets.slice(split)
        observations = pl.concat([r.observations for r in queued]).lazy()
        hubs = _merged_hubs(self.hubs.lazy(), minutes.lazy(), observations)
        new = minutes.select(list(BUCKET_SCHEMA)).lazy()
        if tail.height or len(queued) > 1:  # else one batch's counts, unique per (hub, minute)
            new = (
                pl.concat([tail.lazy(), new])
                .group_by("hub_id", "minute")
                .agg(pl.col("arrivals").sum(), pl.col("departures").sum())
            )
        buckets = new.sort("minute")
        self.hubs, merged = pl.collect_all([hubs, buckets])
        self.buckets = pl.concat([head, merged], rechunk=False)
        self.lanes = lane_rows.merge(self.lanes, pl.concat([r.lanes for r in queued]))
        flows = pl.concat([self.flows, *[r.flows for r in queued]]).lazy()
        return (
            flows.join(self.hubs.lazy().select("hub_id", "anchor_ms"), on="hub_id", how="left")
            .filter(pl.col("anchor_ms").is_null() | (pl.col("ts_s") * 1000 > pl.col("anchor_ms")))
            .select(list(FLOW_SCHEMA))
        )

    def _minute_index(self, minute: int) -> int:
        """Index of the first bucket at ``minute`` or later."""
        return int(self.buckets["minute"].search_sorted(minute, side="left"))

    def _settle(self, flows: pl.LazyFrame, settle_s: int, max_transit_s: int) -> None:
        behind = pl.col("ts_s") <= settle_s
        settled, self.flows = pl.collect_all(
            [
                flows.filter(behind).group_by("hub_id").agg(pl.col("net").sum().alias("fold")),
                flows.filter(~behind),
            ]
        )
        self.lanes = lane_rows.settle(
            self.lanes, settle_s, horizon_s=self.transit_horizon_s, idle_s=max_transit_s
        )
        self.hubs = (
            self.hubs.join(settled, on="hub_id", how="left")
            .with_columns(
                settled_net=pl.col("settled_net") + pl.col("fold").fill_null(0),
                # not max_horizontal: Polars 1.44 refuses it on a column that is all null after
                # two merges without a settle ("length 1 doesn't match the height")
                settled_to_s=pl.col("settled_to_s").fill_null(settle_s).clip(lower_bound=settle_s),
            )
            .drop("fold")
        )

    # -- reading (after ``compact``) -------------------------------------------------------------

    def window(self, first_minute: int, end_minute: int) -> pl.DataFrame:
        """The buckets of minutes ``first_minute`` ≤ minute < ``end_minute`` (a slice)."""
        start = self._minute_index(first_minute)
        return self.buckets.slice(start, max(0, self._minute_index(end_minute) - start))

    def window_sums(self, end_minute: int, spans: windows.Spans) -> pl.DataFrame:
        """Per-hub sums over windows ending (exclusive) at ``end_minute`` (see core.windows)."""
        lengths = tuple((str(m), m) for m in sorted({m for _, m in spans}))  # each length once
        self.window_cache = windows.sums(
            self.buckets,
            end_minute,
            lengths,
            cached=self.window_cache,
            first_kept_minute=self.first_kept_minute,
        )
        return self.window_cache.frame.select(
            "hub_id",
            *[
                pl.col(f"{kind}_{minutes}").alias(f"{kind}_{name}")
                for name, minutes in spans
                for kind in ("arrivals", "departures", "minutes")
            ],
        )

    def backlog(self) -> pl.DataFrame:
        """``hub_id``, ``backlog`` (never below 0) of every hub seen."""
        return self.backlog_query().collect()

    def backlog_query(self) -> pl.LazyFrame:
        """``backlog()`` as a query, to be collected with others."""
        kept = self.flows.lazy().group_by("hub_id").agg(pl.col("net").sum().alias("kept"))
        return (
            self.hubs.lazy()
            .select("hub_id", "anchor_backlog", "settled_net")
            .join(kept, on="hub_id", how="left")
            .select(
                "hub_id",
                pl.max_horizontal(
                    pl.col("anchor_backlog").fill_null(0)
                    + pl.col("settled_net")
                    + pl.col("kept").fill_null(0),
                    pl.lit(0),
                ).alias("backlog"),
            )
        )

    def in_transit(self) -> pl.DataFrame:
        """``hub_id``, ``in_transit_parcels`` (hubs with some only) as of the last settle:
        departed towards the hub within the transit-time bound and not arrived (core.lanes)."""
        return self.in_transit_query().collect()

    def in_transit_query(self) -> pl.LazyFrame:
        """``in_transit()`` as a query, to be collected with others."""
        return lane_rows.in_transit(self.lanes)

    # -- partitions ------------------------------------------------------------------------------

    def lanes_of(self, hub_ids: pl.Series) -> pl.DataFrame:
        """The lane counts made by the events of ``hub_ids``: departures on lanes leaving them,
        arrivals on lanes reaching them. A lane between hubs of two partitions is split between
        the two owners, so that their checkpoints add up exactly. Call after ``compact``."""
        return lane_rows.split(self.lanes, hub_ids)

    def drop_partitions(self, partitions: set[int]) -> None:
        """Forget the hubs of ``partitions`` and their side of the lanes."""
        self.compact(None)
        gone = self.hubs.filter(pl.col("partition").is_in(list(partitions)))["hub_id"].implode()
        self.hubs = self.hubs.filter(~pl.col("hub_id").is_in(gone))
        self.buckets = self.buckets.filter(~pl.col("hub_id").is_in(gone))
        self.flows = self.flows.filter(~pl.col("hub_id").is_in(gone))
        self.lanes = self.lanes_of(self.hubs["hub_id"])
        self.window_cache = None

    def add(self, other: HubStore) -> None:
        """Add the state of other hubs (from a checkpoint); both stores compacted."""
        self.compact(None)
        self.window_cache = None
        self.hubs = pl.concat([self.hubs, other.hubs.cast(HUBS_SCHEMA)])  # type: ignore[arg-type]
        buckets = other.buckets.cast(BUCKET_SCHEMA)  # type: ignore[arg-type]
        self.buckets = pl.concat([self.buckets, buckets]).sort("minute")
        self.flows = pl.concat([self.flows, other.flows.cast(FLOW_SCHEMA)])  # type: ignore[arg-type]
        # a lane between a hub held here and one of the other store: its two halves add up
        self.lanes = lane_rows.combined(self.lanes, other.lanes)
