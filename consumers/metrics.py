"""Pipeline metrics (names in docs/metrics.md), built against a registry passed in."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from consumers.batch import REASON_CODES

OUTCOMES = ("applied", "duplicate", "late", "dead_lettered", "quarantined")
DLQ_REASONS = REASON_CODES
"""The ``reason`` label of ``peakwatch_dlq_records_total``: every DLQ reason code, each at 0
from start, so that a rate over a reason never seen yet is 0 rather than absent."""


class PipelineMetrics:
    """Counters and histograms of the Kafka → core path."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.records = Counter(
            "peakwatch_consumer_records",
            "Kafka records by outcome (late ones are applied too).",
            ["outcome"],
            registry=registry,
        )
        self.dlq = Counter(
            "peakwatch_dlq_records",
            "Records sent to hub-events-dlq, by reason.",
            ["reason"],
            registry=registry,
        )
        self.lag = Gauge(
            "peakwatch_consumer_lag_records",
            "High watermark minus the consumer's position, per partition.",
            ["partition"],
            registry=registry,
        )
        self.watermark_lag = Gauge(
            "peakwatch_watermark_lag_seconds",
            "Wall clock minus the global event-time watermark.",
            registry=registry,
        )
        self.batch_duration = Histogram(
            "peakwatch_consumer_batch_duration_seconds",
            "Decode, registry check and state update of one batch.",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=registry,
        )
        self.batch_records = Histogram(
            "peakwatch_consumer_batch_records",
            "Records per getmany batch.",
            buckets=(1, 10, 100, 1_000, 5_000, 10_000, 20_000, 50_000),
            registry=registry,
        )
        self.state_latency = Histogram(
            "peakwatch_event_state_latency_seconds",
            "Kafka record timestamp to hub state updated.",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=registry,
        )
        for outcome in OUTCOMES:
            self.records.labels(outcome)
        for reason in DLQ_REASONS:
            self.dlq.labels(reason)
