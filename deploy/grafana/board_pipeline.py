"""服务运行 — is the pipeline keeping up: replicas, Kafka lag, throughput, dead letters, latency."""

from __future__ import annotations

from builders import Json, Row, dashboard, stat, target, timeseries, warning_thresholds
from promql import quantile

UID = "peakwatch-pipeline"
RATE = "[$__rate_interval]"
JOB = 'job="peakwatch"'


def _status_row() -> Row:
    return Row(
        title="运行概况",
        panels=[
            stat(
                "运行实例",
                "Replicas Prometheus scrapes successfully (job peakwatch).",
                [target(f"sum(up{{{JOB}}})")],
                defaults={
                    "thresholds": {
                        "mode": "absolute",
                        "steps": [
                            {"color": "red", "value": None},
                            {"color": "green", "value": 1},
                        ],
                    }
                },
            ),
            stat(
                "消费积压(条)",
                "Records on hub-events not yet consumed by the group, all partitions. "
                "/readyz turns false above the configured ready_max_lag_records.",
                [target("sum(max by (partition) (peakwatch_consumer_lag_records))")],
                unit="short",
                defaults={"thresholds": warning_thresholds(yellow=10_000, orange=50_000)},
            ),
            stat(
                "水位滞后",
                "Wall clock minus the event-time watermark.",
                [target("max(peakwatch_watermark_lag_seconds)")],
                unit="s",
                defaults={"thresholds": warning_thresholds(yellow=300, orange=900)},
            ),
            stat(
                "处理速率(条/秒)",
                "Records applied to hub state per second, all replicas (late ones included).",
                [
                    target(
                        "sum(rate(peakwatch_consumer_records_total"
                        f'{{outcome=~"applied|late"}}{RATE}))'
                    )
                ],
                unit="short",
                defaults={"color": {"mode": "fixed", "fixedColor": "text"}},
            ),
            stat(
                "死信与隔离占比",
                "Share of records dead-lettered (bad records, to hub-events-dlq) or quarantined "
                "(clock skew) over the last 15 min.",
                [
                    target(
                        "sum(rate(peakwatch_consumer_records_total"
                        '{outcome=~"dead_lettered|quarantined"}[15m])) '
                        "/ sum(rate(peakwatch_consumer_records_total[15m]))"
                    )
                ],
                unit="percentunit",
                defaults={"thresholds": warning_thresholds(yellow=0.001, orange=0.01)},
            ),
            stat(
                "HTTP 5xx 占比",
                "Share of API requests answered with a server error over the last 15 min "
                "(503: Kafka could not take a batch).",
                [
                    target(
                        '(sum(rate(peakwatch_http_requests_total{status=~"5.."}[15m])) '
                        "or vector(0)) / sum(rate(peakwatch_http_requests_total[15m]))"
                    )
                ],
                unit="percentunit",
                defaults={"thresholds": warning_thresholds(yellow=0.01, orange=0.05)},
            ),
        ],
    )


def _kafka_row() -> Row:
    return Row(
        title="Kafka 消费",
        panels=[
            timeseries(
                "消费速率(条/秒,按结果)",
                "Kafka records per second by outcome: applied, duplicate, late, dead_lettered, "
                "quarantined.",
                [
                    target(
                        f"sum by (outcome) (rate(peakwatch_consumer_records_total{RATE}))",
                        "{{outcome}}",
                    )
                ],
                unit="short",
                stacked=True,
            ),
            timeseries(
                "死信(条/秒,按原因)",
                "Records sent to hub-events-dlq per second by reason (malformed, schema, "
                "unknown_hub, carrier_mismatch, future_ts).",
                [
                    target(
                        f"sum by (reason) (rate(peakwatch_dlq_records_total{RATE}))",
                        "{{reason}}",
                    )
                ],
                unit="short",
                stacked=True,
            ),
            timeseries(
                "消费积压(条,按分区)",
                "High watermark minus committed offset per partition of hub-events. One "
                "partition growing alone points at a hot hub or a stuck replica.",
                [target("max by (partition) (peakwatch_consumer_lag_records)", "{{partition}}")],
                unit="short",
            ),
            timeseries(
                "水位滞后(按实例)",
                "Wall clock minus the event-time watermark, per replica.",
                [target("max by (instance) (peakwatch_watermark_lag_seconds)", "{{instance}}")],
                unit="s",
            ),
        ],
    )


def _latency_row() -> Row:
    def percentiles(histogram: str, by: str = "", legend: str = "") -> list[Json]:
        return [
            target(quantile(q, histogram, by), f"{legend}p{round(q * 100)}") for q in (0.5, 0.99)
        ]

    return Row(
        title="延迟与接口",
        panels=[
            timeseries(
                "批处理耗时",
                "Decode → state → risk time per consumer batch, 50th and 99th percentile.",
                percentiles("peakwatch_consumer_batch_duration_seconds"),
                unit="s",
                width=8,
            ),
            timeseries(
                "批大小(条)",
                "Records per getmany batch, 50th and 99th percentile.",
                percentiles("peakwatch_consumer_batch_records"),
                unit="short",
                width=8,
            ),
            timeseries(
                "事件到状态延迟",
                "Kafka record timestamp to hub state updated, 50th and 99th percentile.",
                percentiles("peakwatch_event_state_latency_seconds"),
                unit="s",
                width=8,
            ),
            timeseries(
                "HTTP 请求(次/秒)",
                "API requests per second by route template and status.",
                [
                    target(
                        f"sum by (route, status) (rate(peakwatch_http_requests_total{RATE}))",
                        "{{route}} {{status}}",
                    )
                ],
                unit="reqps",
                width=8,
            ),
            timeseries(
                "HTTP 延迟 p99",
                "99th percentile request latency by route template.",
                [
                    target(
                        quantile(0.99, "peakwatch_http_request_duration_seconds", "route"),
                        "{{route}}",
                    )
                ],
                unit="s",
                width=8,
            ),
            timeseries(
                "接入事件(条/秒)",
                "Items of POST /v1/events per second by outcome (accepted, rejected with a "
                "per-item reason). Zero when couriers produce to Kafka directly.",
                [
                    target(
                        "sum by (outcome) "
                        f"(rate(peakwatch_ingest_events_total{RATE})) or vector(0)",
                        "{{outcome}}",
                    )
                ],
                unit="short",
                width=8,
            ),
        ],
    )


def build() -> Json:
    """The pipeline-health board."""
    return dashboard(
        uid=UID,
        title="peakwatch · 服务运行",
        description=(
            "Health of the peakwatch service itself: replicas up, Kafka consumer lag, "
            "throughput by outcome, dead letters, batch and event latency, HTTP API."
        ),
        rows=[_status_row(), _kafka_row(), _latency_row()],
        refresh="15s",
        time_from="now-1h",
    )
