"""The local broker: real Apache Kafka 3.9.1, with aiokafka's classic group protocol on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from app import local_kafka

pytestmark = pytest.mark.integration


async def _create(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()


async def _produce(bootstrap: str, topic: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(count):
            await producer.send(topic, f"v{i}".encode(), key=f"k{i % 7}".encode())
        await producer.flush()
    finally:
        await producer.stop()


async def _consume_in_group(bootstrap: str, topic: str, group: str, want: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    seen: list[bytes] = []
    try:
        for _ in range(60):
            batches = await consumer.getmany(timeout_ms=500)
            seen += [record.value for records in batches.values() for record in records]
            if len(seen) >= want:
                break
        await consumer.commit()
    finally:
        await consumer.stop()
    return seen


async def test_aiokafka_group_round_trip_on_the_local_broker(kafka_bootstrap: str) -> None:
    await _create(kafka_bootstrap, "round-trip", 3)
    await _produce(kafka_bootstrap, "round-trip", 120)
    first = await _consume_in_group(kafka_bootstrap, "round-trip", "g1", 120)
    assert sorted(first) == sorted(f"v{i}".encode() for i in range(120))
    # The group's committed offsets survive the consumer: a new member starts after them.
    await _produce(kafka_bootstrap, "round-trip", 5)
    second = await _consume_in_group(kafka_bootstrap, "round-trip", "g1", 5)
    assert len(second) == 5


async def test_restart_keeps_port_topics_and_records(tmp_path: Path) -> None:
    broker = local_kafka.start(tmp_path / "k", partitions=1, heap_mb=384)
    try:
        await _create(broker.bootstrap, "kept", 1)
        await _produce(broker.bootstrap, "kept", 10)
        assert local_kafka.stop(tmp_path / "k")
        again = local_kafka.start(tmp_path / "k", partitions=1, heap_mb=384)
        assert again.bootstrap == broker.bootstrap
        consumer = AIOKafkaConsumer(bootstrap_servers=again.bootstrap)
        await consumer.start()
        try:
            ends = await consumer.end_offsets([TopicPartition("kept", 0)])
        finally:
            await consumer.stop()
        assert ends[TopicPartition("kept", 0)] == 10
    finally:
        local_kafka.stop(tmp_path / "k")
    assert not local_kafka.stop(tmp_path / "k")  # stopping twice is harmless


def test_jars_are_the_pinned_kafka_version() -> None:
    lib = local_kafka.ensure_jars()
    assert (lib / f"kafka_2.13-{local_kafka.KAFKA_VERSION}.jar").exists()
    assert (lib / f"kafka-clients-{local_kafka.KAFKA_VERSION}.jar").exists()
