"""The consumer against a real broker: a failed batch is retried; a rebalance in the middle of a
batch loses and doubles nothing; big checkpoints fit."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import datetime
from typing import Any

import polars as pl
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from consumers.checkpoints import Checkpoint, read_checkpoints, write_checkpoints
from consumers.consumer import HubEventConsumer
from consumers.metrics import PipelineMetrics
from consumers.topics import MAX_CHECKPOINT_BYTES, TopicNames, ensure_topics
from core.engine import ApplyResult, Engine
from core.registry import parse_hubs
from tests.consumers.test_faults import HUBS, REGISTRY, _events, _produce

pytestmark = pytest.mark.integration


async def _topics(bootstrap: str, suffix: str) -> TopicNames:
    """Four topics of this test's own, created."""
    topics = TopicNames(
        events=f"hub-events-{suffix}",
        dlq=f"dlq-{suffix}",
        status=f"status-{suffix}",
        checkpoints=f"checkpoints-{suffix}",
    )
    await ensure_topics(bootstrap, topics, partitions=4)
    return topics


class _FailsOnce:
    """A registry that raises on its ``fail_at``-th read: a batch whose processing crashes."""

    def __init__(self, registry: pl.DataFrame, fail_at: int) -> None:
        self.registry = registry
        self.reads = 0
        self.fail_at = fail_at

    def __call__(self) -> pl.DataFrame:
        self.reads += 1
        if self.reads == self.fail_at:
            raise RuntimeError("planted failure while a batch is processed")
        return self.registry


class _RebalancesDuring:
    """A registry whose ``at``-th read (inside a batch, in the worker thread) has the loop run
    a revocation and a re-assignment of every partition, as aiokafka does from getmany."""

    def __init__(self, registry: pl.DataFrame, at: int) -> None:
        self.registry = registry
        self.reads = 0
        self.at = at
        self.consumer: HubEventConsumer | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.planted: asyncio.Future[None] | None = None

    def __call__(self) -> pl.DataFrame:
        self.reads += 1
        if self.reads == self.at and self.consumer is not None and self.loop is not None:
            consumer = self.consumer
            partitions = set(consumer.assigned)

            async def rebalance() -> None:
                await consumer.release(partitions)
                await consumer.recover(partitions)

            self.planted = asyncio.run_coroutine_threadsafe(rebalance(), self.loop)  # type: ignore[assignment]
            time.sleep(0.5)  # the callbacks start while this batch is still being applied
        return self.registry


class _PoisonEngine(Engine):
    """An engine that fails on any batch holding the event ``poison`` (a bug the decoder cannot
    see): the consumer must not retry it forever."""

    def ingest(self, events: pl.DataFrame, *, now: datetime) -> ApplyResult:
        if (events["event_id"] == "poison").any():
            raise RuntimeError("planted bug: this event breaks the engine")
        return super().ingest(events, now=now)


async def _consume_all(
    bootstrap: str,
    expected: int,
    *,
    rebalance_at: int | None = None,
    poison: bool = False,
) -> tuple[Engine, CollectorRegistry]:
    suffix = uuid.uuid4().hex[:8]
    topics = await _topics(bootstrap, suffix)
    records: list[bytes | dict[str, Any]] = list(_events(0, 30))
    if poison:
        bad = {**records[100], "event_id": "poison"}  # type: ignore[dict-item]
        records.insert(101, bad)
    await _produce(bootstrap, topics.events, records)
    registry = parse_hubs(REGISTRY)
    engine = _PoisonEngine(registry) if poison else Engine(registry)
    collected = CollectorRegistry()
    metrics = PipelineMetrics(collected)
    planted = _RebalancesDuring(registry, rebalance_at) if rebalance_at else None
    consumer = HubEventConsumer(
        bootstrap=bootstrap,
        topics=topics,
        group=f"group-{suffix}",
        engine=engine,
        registry=planted or _FailsOnce(registry, fail_at=2),
        metrics=metrics,
        max_batch_records=50,  # many batches, so the failing one is in the middle
        checkpoint_interval_s=0.5,
    )
    if planted is not None:
        planted.consumer, planted.loop = consumer, asyncio.get_running_loop()
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    try:
        async with asyncio.timeout(60):
            while _count(collected, "applied") < expected or not consumer.caught_up:  # noqa: ASYNC110 - polls counters
                await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.stop()
    return engine, collected


def _count(collected: CollectorRegistry, outcome: str) -> float:
    value = collected.get_sample_value("peakwatch_consumer_records_total", {"outcome": outcome})
    return value or 0.0


def _totals(engine: Engine) -> dict[str, tuple[int, int]]:
    """Arrivals and departures per hub: what the last step saw plus what waits for the next."""
    waiting = engine.pending.group_by("hub_id", "kind").agg(pl.col("parcels").sum())
    queued = {(hub, kind): parcels for hub, kind, parcels in waiting.iter_rows()}
    return {
        row["hub_id"]: (
            row["arrivals_total"] + queued.get((row["hub_id"], "arrival"), 0),
            row["departures_total"] + queued.get((row["hub_id"], "departure"), 0),
        )
        for row in engine.hub_states().iter_rows(named=True)
    }


def test_a_rebalance_in_the_middle_of_a_batch_loses_and_doubles_nothing(
    kafka_bootstrap: str,
) -> None:
    expected = len(HUBS) * 30 * 2
    engine, collected = asyncio.run(_consume_all(kafka_bootstrap, expected, rebalance_at=3))
    assert _totals(engine) == {hub: (300, 120) for hub in HUBS}  # every event exactly once
    assert _count(collected, "applied") + _count(collected, "duplicate") >= expected


def test_a_record_that_always_breaks_a_batch_is_dead_lettered_and_the_rest_applied(
    kafka_bootstrap: str,
) -> None:
    expected = len(HUBS) * 30 * 2
    engine, collected = asyncio.run(_consume_all(kafka_bootstrap, expected, poison=True))
    assert _totals(engine) == {hub: (300, 120) for hub in HUBS}
    errors = collected.get_sample_value(
        "peakwatch_dlq_records_total", {"reason": "processing_error"}
    )
    assert errors == 1


def test_a_batch_that_fails_is_applied_on_retry_and_nothing_is_skipped(
    kafka_bootstrap: str,
) -> None:
    expected = len(HUBS) * 30 * 2
    engine, collected = asyncio.run(_consume_all(kafka_bootstrap, expected))
    totals = _totals(engine)  # every event exactly once
    assert totals == {hub: (300, 120) for hub in HUBS}
    assert _count(collected, "applied") == expected


async def _round_trip(bootstrap: str, state: bytes) -> dict[int, Checkpoint]:
    topics = await _topics(bootstrap, uuid.uuid4().hex[:8])
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_request_size=MAX_CHECKPOINT_BYTES
    )
    await producer.start()
    try:
        await write_checkpoints(producer, topics.checkpoints, "g", [Checkpoint(2, 1234, state)])
    finally:
        await producer.stop()
    return await read_checkpoints(bootstrap, topics.checkpoints, "g", {0, 1, 2, 3})


def test_a_checkpoint_of_national_size_is_stored_and_read_back(kafka_bootstrap: str) -> None:
    # A partition of a 2,000-hub network holds ≈ 1.7 MB after 2 h: over Kafka's 1 MB default.
    state = random.Random(7).randbytes(5 * 1024 * 1024)
    found = asyncio.run(_round_trip(kafka_bootstrap, state))
    assert list(found) == [2]
    assert found[2].next_offset == 1234
    assert found[2].state == state
