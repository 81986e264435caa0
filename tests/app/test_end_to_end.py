"""The thin real slice: HTTP → Kafka → consumer → core → API, against a real broker."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from tests.support.service import hub_line, wait_for

pytestmark = pytest.mark.integration

T0_MS = 1_794_326_400_000  # 2026-11-11T00:00:00+08:00


def _event(i: int, hub: str = "ZTO-HZ01", carrier: str = "ZTO", **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"e-{hub}-{i}",
        "carrier": carrier,
        "hub_id": hub,
        "ts": T0_MS + i * 1000,
        "kind": "arrival",
        "parcels": 10,
        **extra,
    }


async def _produce(bootstrap: str, topic: str, events: list[dict[str, Any]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                topic, json.dumps(event).encode(), key=event["hub_id"].encode()
            )
    finally:
        await producer.stop()


def _hub(client: Any, hub_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/hubs/{hub_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_http_and_kafka_events_counted_exactly_once(
    service_factory: Any, kafka_bootstrap: str
) -> None:
    hubs = "\n".join([hub_line("ZTO-HZ01", "ZTO"), hub_line("YTO-SH01", "YTO", province="上海")])
    service = service_factory(hubs)
    service.start()
    with service.client() as client:
        batch = {"events": [_event(i) for i in range(50)]}
        first = client.post("/v1/events", json=batch)
        assert first.status_code == 202, first.text
        assert first.json() == {"accepted": 50, "rejected": []}
        # The courier's retry of the same batch must not count twice.
        assert client.post("/v1/events", json=batch).json()["accepted"] == 50

        direct = [_event(i) for i in range(50, 80)] + [
            _event(i, "YTO-SH01", "YTO") for i in range(7)
        ]
        asyncio.run(_produce(kafka_bootstrap, service.env["PEAKWATCH_EVENTS_TOPIC"], direct))

        state = wait_for(
            lambda: (h := _hub(client, "ZTO-HZ01"))["arrivals_total"] == 800 and h,
            what="ZTO-HZ01 to count 80 events of 10 parcels",
            describe=lambda: (_hub(client, "ZTO-HZ01"), client.get("/readyz").json()),
        )
        assert state["departures_total"] == 0
        assert state["carrier"] == "ZTO"
        other = wait_for(lambda: (h := _hub(client, "YTO-SH01"))["arrivals_total"] == 70 and h)
        assert other["province"] == "上海"
        # Settle: nothing further arrives later (no double count from the retry or the replay).
        assert _hub(client, "ZTO-HZ01")["arrivals_total"] == 800
        metrics = client.get("/metrics").text
    assert 'peakwatch_hub_arrived_parcels_total{hub_id="ZTO-HZ01"} 800.0' in metrics
    assert 'peakwatch_consumer_records_total{outcome="duplicate"} 50.0' in metrics
    assert 'peakwatch_ingest_events_total{carrier="admin",outcome="accepted"} 100.0' in metrics
    info = next(line for line in metrics.splitlines() if line.startswith("peakwatch_hub_info{"))
    assert 'province="浙江"' in info or 'province="上海"' in info
    assert 'route="/v1/hubs/{hub_id}"' in metrics  # route templates, never raw paths


def test_http_rejects_name_the_item_field_and_rule(service_factory: Any) -> None:
    service = service_factory(hub_line("ZTO-HZ01", "ZTO"))
    service.start()
    with service.client() as client:
        events = [
            _event(0),
            _event(1, parcels=-5),
            _event(2, kind="teleport"),
            _event(3, hub="NOPE-1"),
            _event(4, ts="2026-11-11T00:00:00"),
        ]
        response = client.post("/v1/events", json={"events": events})
        assert response.status_code == 202
        body = response.json()
        assert body["accepted"] == 1
        fields = [(r["index"], r["field"]) for r in body["rejected"]]
        assert fields == [(1, "parcels"), (2, "kind"), (3, "hub_id"), (4, "ts")]
        assert "greater than or equal to 0" in body["rejected"][0]["reason"]
        assert client.get("/healthz").json() == {"status": "ok"}
