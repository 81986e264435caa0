"""Ingestion under faults, against a real broker: crash, two replicas, broker restart, poison."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from app import local_kafka
from tests.support.postgres import postgres_server, postgres_url
from tests.support.service import Service, hub_line, wait_for

__all__ = ["postgres_server", "postgres_url"]

pytestmark = pytest.mark.integration

T0_MS = 1_794_326_400_000  # 2026-11-11T00:00:00+08:00
HUBS = [f"ZTO-H{i:02d}" for i in range(8)]
REGISTRY = "\n".join(hub_line(h, "ZTO", key_node=i < 4) for i, h in enumerate(HUBS))
# Events arrive here in one burst, so event time jumps: fire at once instead of after a pending
# period of event time that a burst may skip over (the periods have tests of their own).
NO_PENDING = {
    "PEAKWATCH_ALERTING": json.dumps(
        {
            "default_periods": {"pending_s": 0, "clear_s": 300},
            "periods": {"network_paralysis": {"pending_s": 0, "clear_s": 600}},
        }
    )
}


def _events(first_minute: int, minutes: int, *, prefix: str = "e") -> list[dict[str, Any]]:
    """One arrival of 10 parcels per hub per minute (and a departure of 4)."""
    events = []
    for minute in range(first_minute, first_minute + minutes):
        for hub in HUBS:
            ts = T0_MS + minute * 60_000 + 30_000
            events.append(
                {"event_id": f"{prefix}-{hub}-{minute}-a", "carrier": "ZTO", "hub_id": hub,
                 "ts": ts, "kind": "arrival", "parcels": 10}
            )  # fmt: skip
            events.append(
                {"event_id": f"{prefix}-{hub}-{minute}-d", "carrier": "ZTO", "hub_id": hub,
                 "ts": ts, "kind": "departure", "parcels": 4}
            )  # fmt: skip
    return events


async def _produce(bootstrap: str, topic: str, records: list[bytes | dict[str, Any]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        for record in records:
            if isinstance(record, dict):
                value, key = json.dumps(record).encode(), record["hub_id"].encode()
            else:
                value, key = record, b"ZTO-H00"
            await producer.send(topic, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


def produce(service: Service, records: list[Any], bootstrap: str | None = None) -> None:
    bootstrap = bootstrap or service.env["PEAKWATCH_KAFKA_BOOTSTRAP"]
    asyncio.run(_produce(bootstrap, service.env["PEAKWATCH_EVENTS_TOPIC"], records))


def totals(service: Service) -> dict[str, tuple[int, int]]:
    with service.client() as client:
        hubs = client.get("/v1/hubs", params={"limit": 100}).json()["hubs"]
    return {h["hub_id"]: (h["arrivals_total"], h["departures_total"]) for h in hubs}


def expect_totals(minutes: int) -> dict[str, tuple[int, int]]:
    return {hub: (10 * minutes, 4 * minutes) for hub in HUBS}


def alerts(service: Service, **params: str) -> list[dict[str, Any]]:
    with service.client() as client:
        response = client.get("/v1/alerts", params={"state": "all", "limit": 500, **params})
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["alerts"]
    return items


def test_kill_9_mid_stream_keeps_totals_exact_and_alerts_single(service_factory: Any) -> None:
    service = service_factory(REGISTRY, overrides=NO_PENDING)
    service.start()
    produce(service, _events(0, 40))
    wait_for(lambda: totals(service) == expect_totals(40), what="the first 40 minutes applied")
    # Hub H07 falls silent from minute 40 on: a hub_silent alert fires before the crash.
    later = [e for e in _events(40, 25) if e["hub_id"] != "ZTO-H07"]
    produce(service, later)
    wait_for(lambda: alerts(service, rule="hub_silent"), what="hub_silent for ZTO-H07")
    before = {a["id"]: a["subject"] for a in alerts(service, rule="hub_silent")}
    # Only the hub that stopped: the second burst, after a pause longer than the idle timeout,
    # may reach the consumer partition by partition, and a partition whose records are still
    # on their way must not be taken for drained (its reporting hubs would turn silent).
    assert sorted(before.values()) == ["ZTO-H07"], before
    service.kill()  # kill -9: no final checkpoint, no commit
    produce(service, [e for e in _events(65, 5) if e["hub_id"] != "ZTO-H07"])
    service.start()
    expected = expect_totals(70)
    expected["ZTO-H07"] = (400, 160)
    wait_for(lambda: totals(service) == expected, timeout_s=60, what="exact totals after restart")
    silent = alerts(service, rule="hub_silent")
    # the restart re-derives, never re-pages: the same alerts as before the crash, none new
    assert {a["id"]: a["subject"] for a in silent} == before, silent
    assert [a["subject"] for a in silent].count("ZTO-H07") == 1


def test_two_replicas_split_partitions_and_agree(service_factory: Any, postgres_url: str) -> None:
    first = service_factory(
        REGISTRY, name="pair-a", overrides={**NO_PENDING, "PEAKWATCH_DB_URL": postgres_url}
    )
    overrides = {
        key: first.env[key]
        for key in (
            "PEAKWATCH_EVENTS_TOPIC",
            "PEAKWATCH_DLQ_TOPIC",
            "PEAKWATCH_STATUS_TOPIC",
            "PEAKWATCH_CHECKPOINT_TOPIC",
            "PEAKWATCH_CONSUMER_GROUP",
            "PEAKWATCH_DB_URL",
            "PEAKWATCH_HUBS_FILE",
            "PEAKWATCH_ALERTING",
        )
    }
    second = service_factory(REGISTRY, name="pair-b", overrides=overrides)
    first.start()
    second.start(wait_ready=False)

    def split() -> bool:
        with first.client() as a, second.client() as b:
            mine = a.get("/readyz").json().get("assigned_partitions", [])
            theirs = b.get("/readyz").json().get("assigned_partitions", [])
        return bool(mine) and bool(theirs) and sorted(mine + theirs) == [0, 1, 2, 3]

    wait_for(split, timeout_s=60, what="the two replicas to split the four partitions")
    # Half the key nodes stop departing: network_paralysis (key nodes at orange or worse).
    events = _events(0, 30)
    for event in events:
        if event["kind"] == "arrival" and event["hub_id"] in HUBS[:2]:
            event["parcels"] = 4_000
    produce(first, events)
    wait_for(lambda: totals(first) == totals(second) and totals(first)["ZTO-H00"][0] == 120_000,
             timeout_s=60, what="both replicas to show every hub")  # fmt: skip
    with first.client() as a, second.client() as b:
        assert a.get("/v1/network").json()["hubs_red"] == b.get("/v1/network").json()["hubs_red"]
    network = wait_for(lambda: alerts(first, rule="network_paralysis"), what="network alert")
    assert len(network) == 1, network
    assert alerts(second, rule="network_paralysis") == network  # one alert, shared store


def test_broker_restart_mid_stream_loses_nothing(service_factory: Any, tmp_path: Path) -> None:
    broker_dir = tmp_path / "own-broker"
    broker = local_kafka.start(broker_dir, partitions=4, heap_mb=384)
    try:
        service = service_factory(
            REGISTRY, overrides={"PEAKWATCH_KAFKA_BOOTSTRAP": broker.bootstrap}
        )
        service.env["PEAKWATCH_KAFKA_BOOTSTRAP"] = broker.bootstrap
        service.start()
        produce(service, _events(0, 20))
        wait_for(lambda: totals(service) == expect_totals(20), what="first 20 minutes")
        local_kafka.stop(broker_dir)
        local_kafka.start(broker_dir, partitions=4, heap_mb=384)
        produce(service, _events(20, 20))
        wait_for(lambda: totals(service) == expect_totals(40), timeout_s=90, what="all 40 minutes")
        assert service.process is not None
        assert service.process.poll() is None  # recovered by itself, never exited
    finally:
        local_kafka.stop(broker_dir)


async def _dlq(bootstrap: str, topic: str, want: int) -> list[Any]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(4)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        for _ in range(40):
            batches = await consumer.getmany(timeout_ms=500)
            records += [r for part in batches.values() for r in part]
            if len(records) >= want:
                break
        return records
    finally:
        await consumer.stop()


def test_poison_records_go_to_the_dlq_with_reasons(service_factory: Any) -> None:
    service = service_factory(REGISTRY)
    service.start()
    good = _events(0, 5)
    poison: list[Any] = [
        b"{not json",
        b"[1, 2, 3]",
        {**good[0], "event_id": "bad-kind", "kind": "teleport"},
        {**good[0], "event_id": "bad-hub", "hub_id": "NOPE-1"},
        {**good[0], "event_id": "bad-carrier", "carrier": "YTO"},
        {**good[0], "event_id": "future", "ts": T0_MS + 10 * 365 * 86_400_000},
    ]
    produce(service, good[:40] + poison + good[40:])
    wait_for(lambda: totals(service) == expect_totals(5), what="the good records applied")
    records = asyncio.run(
        _dlq(service.env["PEAKWATCH_KAFKA_BOOTSTRAP"], service.env["PEAKWATCH_DLQ_TOPIC"], 6)
    )
    reasons = sorted(dict(r.headers)["peakwatch-reason-code"].decode() for r in records)
    assert reasons == sorted(
        ["malformed", "malformed", "schema", "unknown_hub", "carrier_mismatch", "future_ts"]
    )
    assert b"{not json" in [r.value for r in records]  # the original bytes, untouched
    with service.client() as client:
        metrics = client.get("/metrics").text
    assert 'peakwatch_dlq_records_total{reason="malformed"} 2.0' in metrics
    assert 'peakwatch_consumer_records_total{outcome="quarantined"} 1.0' in metrics
