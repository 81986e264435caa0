"""The benchmark's input: the simulator's Double-11 events in a Kafka topic, keyed by hub.

create_topic(bootstrap, topic, partitions=)       a plain topic (the broker creates none itself)
fill(bootstrap, topic, simulation, max_events=)   whole simulated minutes, produced acks=all
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from simulator.simulation import Simulation
from simulator.sinks import KafkaSink


@dataclass(frozen=True)
class Filled:
    """What went into the topic."""

    records: int
    minutes: int
    last_ts_ms: int  # the newest event time sent
    seconds: float

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


async def create_topic(bootstrap: str, topic: str, *, partitions: int) -> None:
    """Create ``topic`` with ``partitions`` partitions (replication factor 1)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()


async def fill(
    bootstrap: str,
    topic: str,
    simulation: Simulation,
    *,
    max_events: int | None = None,
    duration: timedelta | None = None,
) -> Filled:
    """Produce whole simulated minutes (acks=all) until ``max_events`` or ``duration``."""
    sink = KafkaSink(bootstrap, topic)
    await sink.start()
    records = minutes = last_ts_ms = 0
    started = time.perf_counter()
    try:
        for batch in simulation.batches():
            if max_events is not None and records >= max_events:
                break
            if duration is not None and batch.minute >= simulation.start + duration:
                break
            records += await sink.send(batch)
            minutes += 1
            if batch.events.height:
                newest = batch.events["ts"].dt.epoch("ms").max()
                last_ts_ms = max(last_ts_ms, int(newest))  # type: ignore[arg-type]
    finally:
        await sink.close()
    return Filled(records, minutes, last_ts_ms, time.perf_counter() - started)
