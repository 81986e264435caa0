"""Every metric family of docs/metrics.md with plausible values, for checking the boards' queries
against a real Prometheus without a running service (two hubs filling, one province at orange).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

HUBS = (
    # hub_id, carrier, province, city, tier, key_node, backlog, capacity, arrivals/s, departures/s
    ("ZTO-HZ01", "ZTO", "浙江", "杭州", "national", "true", 560_000, 600_000, 40.0, 25.0),
    ("YTO-NB02", "YTO", "浙江", "宁波", "city", "false", 30_000, 100_000, 5.0, 6.0),
    ("SF-SZ01", "SF", "广东", "深圳", "national", "true", 100_000, 500_000, 30.0, 20.0),
)


def _gauge(registry: CollectorRegistry, name: str, labels: tuple[str, ...] = ()) -> Gauge:
    return Gauge(name, name, list(labels), registry=registry)


def _hub_gauges(registry: CollectorRegistry) -> None:
    info = _gauge(
        registry,
        "peakwatch_hub_info",
        ("hub_id", "carrier", "province", "city", "tier", "key_node"),
    )
    names = (
        "backlog_parcels",
        "storage_capacity_parcels",
        "utilization_ratio",
        "arrival_rate_parcels_per_second",
        "departure_rate_parcels_per_second",
        "sort_capacity_parcels_per_second",
        "in_transit_parcels",
        "time_to_overflow_seconds",
        "level",
        "last_event_timestamp_seconds",
    )
    gauges = {name: _gauge(registry, f"peakwatch_hub_{name}", ("hub_id",)) for name in names}
    arrived = Counter("peakwatch_hub_arrived_parcels", "", ["hub_id"], registry=registry)
    departed = Counter("peakwatch_hub_departed_parcels", "", ["hub_id"], registry=registry)
    for hub_id, carrier, province, city, tier, key, backlog, capacity, inflow, outflow in HUBS:
        info.labels(hub_id, carrier, province, city, tier, key).set(1)
        values = {
            "backlog_parcels": backlog,
            "storage_capacity_parcels": capacity,
            "utilization_ratio": backlog / capacity,
            "arrival_rate_parcels_per_second": inflow,
            "departure_rate_parcels_per_second": outflow,
            "sort_capacity_parcels_per_second": 35.0,
            "in_transit_parcels": 1_200,
            "level": 3 if backlog / capacity >= 0.9 else 0,
            "last_event_timestamp_seconds": 1_762_800_000,
        }
        if inflow > outflow:  # no ETA sample when the hub is not filling
            values["time_to_overflow_seconds"] = (capacity - backlog) / (inflow - outflow)
        for name, value in values.items():
            gauges[name].labels(hub_id).set(value)
        arrived.labels(hub_id).inc(inflow * 3600)
        departed.labels(hub_id).inc(outflow * 3600)


def _area_gauges(registry: CollectorRegistry) -> None:
    _gauge(registry, "peakwatch_province_level", ("province",)).labels("浙江").set(3)
    ratio = _gauge(registry, "peakwatch_province_orange_capacity_ratio", ("province",))
    ratio.labels("浙江").set(0.8)
    ratio.labels("广东").set(0.0)
    _gauge(registry, "peakwatch_network_level").set(1)
    _gauge(registry, "peakwatch_network_key_nodes_orange_capacity_ratio").set(0.55)
    _gauge(registry, "peakwatch_network_key_nodes_silent_ratio").set(0.0)
    _gauge(registry, "peakwatch_network_departure_arrival_ratio").set(0.68)
    hubs = _gauge(registry, "peakwatch_hubs", ("level",))
    for level, count in (
        ("unknown", 0),
        ("none", 2),
        ("blue", 0),
        ("yellow", 0),
        ("orange", 1),
        ("red", 0),
    ):
        hubs.labels(level).set(count)
    carrier_hubs = _gauge(registry, "peakwatch_carrier_hubs", ("carrier", "level"))
    carrier_hubs.labels("ZTO", "orange").set(1)
    carrier_hubs.labels("YTO", "none").set(1)
    _gauge(registry, "peakwatch_watermark_timestamp_seconds").set(1_762_800_060)


def _pipeline(registry: CollectorRegistry) -> None:
    records = Counter("peakwatch_consumer_records", "", ["outcome"], registry=registry)
    for outcome, count in (
        ("applied", 90_000),
        ("duplicate", 10),
        ("late", 40),
        ("dead_lettered", 3),
        ("quarantined", 1),
    ):
        records.labels(outcome).inc(count)
    dlq = Counter("peakwatch_dlq_records", "", ["reason"], registry=registry)
    dlq.labels("schema").inc(3)
    lag = _gauge(registry, "peakwatch_consumer_lag_records", ("partition",))
    for partition in range(4):
        lag.labels(str(partition)).set(10 * partition)
    _gauge(registry, "peakwatch_watermark_lag_seconds").set(42)
    for name, value in (
        ("peakwatch_consumer_batch_duration_seconds", 0.03),
        ("peakwatch_consumer_batch_records", 800),
        ("peakwatch_event_state_latency_seconds", 0.2),
    ):
        Histogram(name, "", registry=registry).observe(value)


def _alerts_and_http(registry: CollectorRegistry) -> None:
    alerts = _gauge(registry, "peakwatch_alerts", ("rule", "level", "state"))
    alerts.labels("hub_overflow", "orange", "firing").set(1)
    alerts.labels("province_congestion", "red", "pending").set(1)
    transitions = Counter("peakwatch_alert_transitions", "", ["rule", "to"], registry=registry)
    transitions.labels("hub_overflow", "firing").inc()
    notifications = Counter(
        "peakwatch_notifications", "", ["receiver", "outcome"], registry=registry
    )
    notifications.labels("webhook", "sent").inc()
    _gauge(registry, "peakwatch_notification_outbox_pending").set(0)
    requests = Counter(
        "peakwatch_http_requests", "", ["method", "route", "status"], registry=registry
    )
    requests.labels("POST", "/v1/events", "202").inc(100)
    duration = Histogram(
        "peakwatch_http_request_duration_seconds", "", ["method", "route"], registry=registry
    )
    duration.labels("POST", "/v1/events").observe(0.02)
    ingest = Counter("peakwatch_ingest_events", "", ["carrier", "outcome"], registry=registry)
    ingest.labels("ZTO", "accepted").inc(5_000)


def synthetic_registry() -> CollectorRegistry:
    """A registry holding every documented family, ready to serve on /metrics."""
    registry = CollectorRegistry()
    _hub_gauges(registry)
    _area_gauges(registry)
    _pipeline(registry)
    _alerts_and_http(registry)
    return registry
