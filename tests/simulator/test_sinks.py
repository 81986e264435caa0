from __future__ import annotations

import io
import json
from datetime import timedelta

import httpx
import polars as pl
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from core.events import decode_batch
from simulator.faults import MalformedRecord
from simulator.simulation import MinuteBatch, generate
from simulator.sinks import HttpSink, KafkaSink, NdjsonSink, SinkError, retry_after_s


@pytest.fixture(scope="module")
def batch() -> MinuteBatch:
    simulation = generate("baseline", hubs=40, seed=2, duration=timedelta(minutes=1))
    return next(iter(simulation.batches()))


def _sink(handler: httpx.MockTransport, keys: dict[str, str], waits: list[float]) -> HttpSink:
    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    client = httpx.AsyncClient(transport=handler)
    return HttpSink("http://svc", keys, batch_events=100, client=client, sleep=sleep)


async def test_http_posts_json_batches_with_the_bearer_key(batch: MinuteBatch) -> None:
    bodies: list[dict[str, list[dict[str, object]]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/events"
        assert request.headers["authorization"] == "Bearer k-admin"
        assert request.headers["content-type"] == "application/json"
        bodies.append(json.loads(request.content))
        return httpx.Response(202, json={"accepted": len(bodies[-1]["events"]), "rejected": []})

    sink = _sink(httpx.MockTransport(handler), {"": "k-admin"}, [])
    sent = await sink.send(batch)
    await sink.close()

    assert sent == len(batch) == sum(len(body["events"]) for body in bodies)
    assert max(len(body["events"]) for body in bodies) <= 100
    assert bodies[0]["events"][0] == json.loads(batch.records()[0])


async def test_http_uses_each_carriers_own_key(batch: MinuteBatch) -> None:
    seen: dict[str, set[str]] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        carriers = {event["carrier"] for event in json.loads(request.content)["events"]}
        seen.setdefault(request.headers["authorization"], set()).update(carriers)
        return httpx.Response(202, json={"accepted": 1, "rejected": []})

    codes = set(batch.events["carrier"])
    sink = _sink(httpx.MockTransport(handler), {c: f"key-{c}" for c in codes}, [])
    await sink.send(batch)

    assert seen == {f"Bearer key-{c}": {c} for c in codes}


async def test_http_waits_as_told_on_429_and_503_then_delivers(batch: MinuteBatch) -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(503, headers={"Retry-After": "1.5"}),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers, httpx.Response(202, json={"accepted": 1, "rejected": [{"index": 0}]}))

    waits: list[float] = []
    sink = _sink(httpx.MockTransport(handler), {"": "k"}, waits)
    small = MinuteBatch(batch.minute, batch.events.head(5))
    await sink.send(small)

    assert waits == [3.0, 1.5]
    assert sink.stats.rejected == 1


async def test_http_refusals_are_raised_never_dropped(batch: MinuteBatch) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"detail": "unknown key"})

    sink = _sink(httpx.MockTransport(handler), {"": "wrong"}, [])
    with pytest.raises(SinkError, match="401"):
        await sink.send(batch)


async def test_http_sends_records_that_are_not_json_as_ndjson(batch: MinuteBatch) -> None:
    types: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        types.append(request.headers["content-type"])
        assert decode_batch(request.content.split(b"\n")).rejects.height == 1
        return httpx.Response(202, json={"accepted": 2, "rejected": [{"index": 2}]})

    broken = MalformedRecord(b"ZTO-HZ01", b'{"event_id":"x', "truncated JSON")
    sink = _sink(httpx.MockTransport(handler), {"": "k"}, [])
    await sink.send(MinuteBatch(batch.minute, batch.events.head(2), (broken,)))

    assert types == ["application/x-ndjson"]


def test_retry_after_accepts_seconds_or_a_date_and_is_capped() -> None:
    assert retry_after_s("7", 1) == 7.0
    assert retry_after_s("9999", 1) == 30.0
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", 1) == 0.0
    assert retry_after_s(None, 2) == 2.0


async def test_ndjson_writes_one_record_per_line(batch: MinuteBatch) -> None:
    out = io.BytesIO()
    sink = NdjsonSink(out, close=False)
    await sink.send(batch)
    await sink.close()

    assert out.getvalue().splitlines() == batch.records()


@pytest.mark.integration
async def test_kafka_gets_every_record_keyed_by_hub(kafka_bootstrap: str) -> None:
    topic = "sim-sink-test"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()
    simulation = generate("double11", hubs=40, seed=2, duration=timedelta(minutes=3))
    batches = list(simulation.batches())
    sink = KafkaSink(kafka_bootstrap, topic)
    await sink.start()
    try:
        for batch in batches:
            await sink.send(batch)
    finally:
        await sink.close()

    expected = sum(len(batch) for batch in batches)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    received: list[tuple[bytes, int, bytes]] = []
    try:
        while len(received) < expected:
            polled = await consumer.getmany(timeout_ms=5_000)
            assert polled, "the broker returned no more records"
            for tp, records in polled.items():
                received += [(r.key, tp.partition, r.value) for r in records]
    finally:
        await consumer.stop()

    values = [value for _, _, value in received]
    keys = pl.DataFrame({"key": [k for k, _, _ in received], "p": [p for _, p, _ in received]})
    decoded = decode_batch(values)
    assert len(received) == expected
    assert decoded.rejects.is_empty()
    assert (keys.group_by("key").agg(pl.col("p").n_unique())["p"] == 1).all()
    assert [k.decode() for k, _, _ in received[:1]] == decoded.events["hub_id"].head(1).to_list()
