"""The whole network's hub states, shared between replicas through the compacted ``hub-status``.

Each replica publishes the rows of the hubs it owns (key = hub_id, value = one JSON object); every
replica reads the topic from the beginning and keeps the latest row per hub. The API and the
province- and network-level rules read ``NetworkView.frame()``, which is the same on every replica
up to the publish period.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import polars as pl
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from consumers.topics import wait_for_partitions

log = logging.getLogger(__name__)


def encode_rows(states: pl.DataFrame) -> list[tuple[bytes, bytes]]:
    """(key, value) per hub row: the row as compact JSON, in one Polars call for all rows."""
    if states.height == 0:
        return []
    lines = states.write_ndjson().splitlines()
    keys = states["hub_id"].to_list()
    return [(str(key).encode(), line.encode()) for key, line in zip(keys, lines, strict=True)]


def decode_rows(values: list[bytes], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Rows written by ``encode_rows`` back to a frame of ``schema``."""
    if not values:
        return pl.DataFrame(schema=schema)
    return pl.read_ndjson(io.BytesIO(b"\n".join(values)), schema=schema)


async def publish_states(producer: Any, topic: str, states: pl.DataFrame) -> None:
    """Publish each hub's row (acks as configured on the producer)."""
    futures = [
        await producer.send(topic, key=key, value=value) for key, value in encode_rows(states)
    ]
    if futures:
        await asyncio.gather(*futures)


class NetworkView:
    """Latest published row per hub, kept up to date by ``run()``."""

    def __init__(self, *, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.rows: dict[str, bytes] = {}
        self.loaded = False  # read to the end once since start
        self._consumer: Any = None

    async def start(self) -> None:
        """Assign every partition of the topic and read from its beginning."""
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False
        )
        await self._consumer.start()
        partitions = await wait_for_partitions(self._consumer, self.topic)
        tps = [TopicPartition(self.topic, p) for p in partitions]
        self._consumer.assign(tps)
        await self._consumer.seek_to_beginning(*tps)
        self._targets = await self._consumer.end_offsets(tps)

    async def stop(self) -> None:
        """Close the reader."""
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def run(self) -> None:
        """Apply published rows until cancelled."""
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=500, max_records=10_000)
            except KafkaError as error:
                log.warning("hub-status read failed, retrying: %s", error)
                await asyncio.sleep(1.0)
                continue
            for records in batches.values():
                for record in records:
                    if record.key is not None and record.value is not None:
                        self.rows[record.key.decode()] = record.value
            if not self.loaded:
                positions = {tp: await self._consumer.position(tp) for tp in self._targets}
                self.loaded = all(positions[tp] >= end for tp, end in self._targets.items())

    def frame(self, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        """Every published hub's latest row."""
        return decode_rows(list(self.rows.values()), schema)
