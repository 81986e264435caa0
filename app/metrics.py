"""``/metrics``: per-hub and network gauges rendered from the latest snapshot at scrape time, and
HTTP metrics. Names and cardinality: docs/metrics.md.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import polars as pl
from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.levels import LEVEL_RANK, LEVELS
from core.rollups import national_rollup, province_rollup

_HUB_GAUGES = (
    ("peakwatch_hub_backlog_parcels", "Parcels on hand.", pl.col("backlog")),
    (
        "peakwatch_hub_storage_capacity_parcels",
        "Parcels the site can hold.",
        pl.col("storage_capacity"),
    ),
    ("peakwatch_hub_utilization_ratio", "Backlog / storage capacity.", pl.col("utilization")),
    (
        "peakwatch_hub_arrival_rate_parcels_per_second",
        "Arrivals over the sliding window.",
        pl.col("arrival_rate_per_min") / 60,
    ),
    (
        "peakwatch_hub_departure_rate_parcels_per_second",
        "Departures over the sliding window.",
        pl.col("departure_rate_per_min") / 60,
    ),
    (
        "peakwatch_hub_sort_capacity_parcels_per_second",
        "Sorting capacity.",
        pl.col("sort_capacity_per_hour") / 3600,
    ),
    (
        "peakwatch_hub_in_transit_parcels",
        "Departed towards this hub, not yet arrived.",
        pl.col("in_transit_parcels"),
    ),
    (
        "peakwatch_hub_time_to_overflow_seconds",
        "Time to overflow; absent when net inflow ≤ 0.",
        pl.col("time_to_overflow_s"),
    ),
    (
        "peakwatch_hub_level",
        "Worst level: -1 unknown, 0 none, 1 blue … 4 red.",
        pl.col("level_rank"),
    ),
    (
        "peakwatch_hub_last_event_timestamp_seconds",
        "Event time of the hub's last event.",
        pl.col("last_event_at").dt.epoch("ms") / 1000,
    ),
)
_HUB_COUNTERS = (
    (
        "peakwatch_hub_arrived_parcels",
        "Parcels arrived since first seen.",
        pl.col("arrivals_total"),
    ),
    (
        "peakwatch_hub_departed_parcels",
        "Parcels departed since first seen.",
        pl.col("departures_total"),
    ),
)
_RANK = pl.col("level").cast(pl.String).replace_strict(LEVEL_RANK, return_dtype=pl.Int64)


class SnapshotCollector(Collector):
    """Renders the runtime's latest snapshot; costs nothing between scrapes."""

    def __init__(self, snapshot: Callable[[], Any]) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        """One pass over the hub-state frame per scrape."""
        snapshot = self.snapshot()
        states: pl.DataFrame = snapshot.hub_states.with_columns(level_rank=_RANK)
        yield from self._hub_info(states)
        columns = [expr.alias(name) for name, _, expr in (*_HUB_GAUGES, *_HUB_COUNTERS)]
        values = states.select(pl.col("hub_id"), *columns)
        for name, help_text, _ in _HUB_GAUGES:
            family = GaugeMetricFamily(name, help_text, labels=["hub_id"])
            for hub_id, value in values.select("hub_id", name).drop_nulls().iter_rows():
                family.add_metric([hub_id], float(value))
            yield family
        for name, help_text, _ in _HUB_COUNTERS:
            counter = CounterMetricFamily(name, help_text, labels=["hub_id"])
            for hub_id, value in values.select("hub_id", name).drop_nulls().iter_rows():
                counter.add_metric([hub_id], float(value))
            yield counter
        yield from self._levels(states, snapshot)

    @staticmethod
    def _hub_info(states: pl.DataFrame) -> Iterable[Metric]:
        labels = ["hub_id", "carrier", "province", "city", "tier", "key_node"]
        info = GaugeMetricFamily(
            "peakwatch_hub_info", "Registry labels of each hub.", labels=labels
        )
        for row in states.select(labels).iter_rows():
            info.add_metric([str(v).lower() if isinstance(v, bool) else str(v) for v in row], 1.0)
        yield info

    @staticmethod
    def _levels(states: pl.DataFrame, snapshot: Any) -> Iterable[Metric]:
        hubs = GaugeMetricFamily("peakwatch_hubs", "Hubs at each level.", labels=["level"])
        counts = dict(states.group_by("level").len().iter_rows())
        for level in LEVELS:
            hubs.add_metric([level], float(counts.get(level, 0)))
        yield hubs
        per_carrier = GaugeMetricFamily(
            "peakwatch_carrier_hubs", "Hubs per carrier and level.", labels=["carrier", "level"]
        )
        for carrier, level, count in states.group_by("carrier", "level").len().iter_rows():
            per_carrier.add_metric([carrier, str(level)], float(count))
        yield per_carrier
        signals: pl.DataFrame = snapshot.signals
        network = GaugeMetricFamily("peakwatch_network_level", "network_paralysis level (0–4).")
        rows = signals.filter(pl.col("rule") == "network_paralysis")
        network.add_metric([], float(LEVEL_RANK[str(rows["level"].max())]) if rows.height else 0.0)
        yield network
        outage = GaugeMetricFamily(
            "peakwatch_network_data_outage_level", "network_data_outage level (0–4)."
        )
        rows = signals.filter(pl.col("rule") == "network_data_outage")
        outage.add_metric([], float(LEVEL_RANK[str(rows["level"].max())]) if rows.height else 0.0)
        yield outage
        province = GaugeMetricFamily(
            "peakwatch_province_level", "province_congestion level (0–4).", labels=["province"]
        )
        worst = {p: 0 for p in states["province"].unique().to_list()}
        for subject, level in (
            signals.filter(pl.col("rule") == "province_congestion")
            .select("subject", "level")
            .iter_rows()
        ):
            worst[subject] = max(worst.get(subject, 0), LEVEL_RANK[level])
        for name, rank in sorted(worst.items()):
            province.add_metric([name], float(rank))
        yield province
        yield from _shares(states)
        if snapshot.watermark is not None:
            watermark = GaugeMetricFamily(
                "peakwatch_watermark_timestamp_seconds", "The global event-time watermark."
            )
            watermark.add_metric([], snapshot.watermark.timestamp())
            yield watermark


def _shares(states: pl.DataFrame) -> Iterable[Metric]:
    """Capacity-weighted shares behind the province and network rules."""
    heard = states.filter(pl.col("last_event_at").is_not_null())
    province = GaugeMetricFamily(
        "peakwatch_province_orange_capacity_ratio",
        "Capacity-weighted share of the province's hubs at orange or worse.",
        labels=["province"],
    )
    if heard.height:
        for row in province_rollup(heard).select("province", "orange_capacity_ratio").iter_rows():
            province.add_metric([row[0]], float(row[1]))
    yield province
    national = national_rollup(heard) if heard.height else None
    for name, key, help_text in (
        (
            "peakwatch_network_key_nodes_orange_capacity_ratio",
            "key_nodes_orange_capacity_ratio",
            "Capacity-weighted share of key nodes at orange or worse.",
        ),
        (
            "peakwatch_network_key_nodes_silent_ratio",
            "key_nodes_silent_ratio",
            "Share of key nodes silent.",
        ),
        (
            "peakwatch_network_departure_arrival_ratio",
            "departure_arrival_ratio",
            "National departures / arrivals over 30 min.",
        ),
    ):
        family = GaugeMetricFamily(name, help_text)
        value = None if national is None else national[key]
        if value is not None:
            family.add_metric([], float(value))
        yield family


def install_http_metrics(app: FastAPI, registry: CollectorRegistry) -> None:
    """Count and time every request by its route template (never the raw path)."""
    requests = Counter(
        "peakwatch_http_requests",
        "HTTP requests.",
        ["method", "route", "status"],
        registry=registry,
    )
    duration = Histogram(
        "peakwatch_http_request_duration_seconds",
        "HTTP request latency.",
        ["method", "route"],
        buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
        registry=registry,
    )

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "(unmatched)")
        if template.startswith("/v1/alerts/stream"):
            return response  # a stream's duration is its lifetime, not a latency
        duration.labels(request.method, template).observe(time.perf_counter() - started)
        requests.labels(request.method, template, str(response.status_code)).inc()
        return response
