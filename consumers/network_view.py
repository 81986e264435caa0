"""The whole network's hub states, shared between replicas through the compacted ``hub-status``.

Two kinds of record:

- hub rows (key = hub_id, value = one JSON object): each replica publishes the rows of the hubs
  it owns; every replica keeps the latest row per hub. The API reads ``NetworkView.frame()``,
  the same on every replica up to the publish period.
- step sums (key = ``sums:<partition>``, header ``step_ms``, value = Arrow IPC): at every
  event-time step, the owner of a partition publishes the province sums of its hubs *as of
  that step*. The replica that evaluates the network adds up the sums of every partition for
  a step, so its province and network rules see each hub as of the same step, whichever
  replica holds it (``sums_for``).
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Callable, Iterable
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


SUMS_PREFIX = b"sums:"
ALIVE_PREFIX = b"alive:"  # an owner still polling its partition, with or without steps to show
MAX_STEPS_KEPT = 10_000  # per partition: a replica this far behind is waited for no more


def encode_sums(frame: pl.DataFrame) -> bytes:
    """One partition's province sums at a step, as Arrow IPC."""
    buffer = io.BytesIO()
    frame.write_ipc(buffer)
    return buffer.getvalue()


async def publish_sums(
    producer: Any, topic: str, step_ms: int, sums: dict[int, pl.DataFrame]
) -> None:
    """Publish each partition's province sums at ``step_ms``."""
    futures = [
        await producer.send(
            topic,
            key=SUMS_PREFIX + str(partition).encode(),
            value=encode_sums(frame),
            headers=[("step_ms", str(step_ms).encode())],
        )
        for partition, frame in sums.items()
    ]
    if futures:
        await asyncio.gather(*futures)


async def publish_alive(producer: Any, topic: str, partitions: Iterable[int]) -> None:
    """Say that this replica still polls ``partitions``: the network's steps wait for their
    sums instead of going on without them (``NetworkStepper``)."""
    futures = [
        await producer.send(topic, key=ALIVE_PREFIX + str(p).encode(), value=b"")
        for p in sorted(partitions)
    ]
    if futures:
        await asyncio.gather(*futures)


async def publish_states(producer: Any, topic: str, states: pl.DataFrame) -> None:
    """Publish each hub's row (acks as configured on the producer)."""
    futures = [
        await producer.send(topic, key=key, value=value) for key, value in encode_rows(states)
    ]
    if futures:
        await asyncio.gather(*futures)


class NetworkView:
    """Latest published row per hub, kept up to date by ``run()``."""

    def __init__(
        self, *, bootstrap: str, topic: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.clock = clock
        self.rows: dict[str, bytes] = {}
        self.sums: dict[int, dict[int, pl.DataFrame]] = {}  # partition → step_ms → sums
        self.heard_at: dict[int, float] = {}  # partition → when (clock) its owner last spoke
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
                    if record.key is None or record.value is None:
                        continue
                    if record.key.startswith(ALIVE_PREFIX):
                        self._take_alive(record.key)
                    elif record.key.startswith(SUMS_PREFIX):
                        self._take_sums(record)
                    else:
                        self.rows[record.key.decode()] = record.value
            if not self.loaded:
                positions = {tp: await self._consumer.position(tp) for tp in self._targets}
                self.loaded = all(positions[tp] >= end for tp, end in self._targets.items())

    def _take_alive(self, key: bytes) -> None:
        try:
            partition = int(key[len(ALIVE_PREFIX) :])
        except ValueError:
            log.warning("unreadable liveness key on %s: %r", self.topic, key[:40])
            return
        self.mark_alive(partition)

    def mark_alive(self, partition: int) -> None:
        """The partition's owner still polls it (read from ``hub-status``)."""
        self.heard_at[partition] = self.clock()

    def _take_sums(self, record: Any) -> None:
        try:
            partition = int(record.key[len(SUMS_PREFIX) :])
            step_ms = int(dict(record.headers or ())["step_ms"])
            frame = pl.read_ipc(io.BytesIO(record.value))
        except (KeyError, ValueError, OSError, pl.exceptions.PolarsError) as error:
            log.warning("unreadable step sums on %s: %s", self.topic, error)
            return
        self.add_sums(step_ms, {partition: frame})

    def add_sums(self, step_ms: int, sums: dict[int, pl.DataFrame]) -> None:
        """Keep partitions' sums at a step (the ones read, and this replica's own)."""
        now = self.clock()
        for partition, frame in sums.items():
            self.heard_at[partition] = now
            steps = self.sums.setdefault(partition, {})
            steps[step_ms] = frame
            if len(steps) > MAX_STEPS_KEPT:
                del steps[min(steps)]

    def sums_for(self, step_ms: int, partitions: Iterable[int]) -> list[int]:
        """Those of ``partitions`` whose sums at ``step_ms`` are missing."""
        return [p for p in partitions if step_ms not in self.sums.get(p, {})]

    def stacked_sums(self, step_ms: int) -> pl.DataFrame:
        """Every partition's sums at ``step_ms`` (that are here), stacked."""
        frames = [s[step_ms] for s in self.sums.values() if step_ms in s]
        frames = [f for f in frames if f.width]
        return pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()

    def first_common_step(self, partitions: Iterable[int]) -> int | None:
        """The earliest step every one of ``partitions`` has sums for, or None."""
        sets = [set(self.sums.get(p, {})) for p in partitions]
        common = set.intersection(*sets) if sets else set()
        return min(common) if common else None

    def forget_sums_until(self, step_ms: int) -> None:
        """Drop sums of steps at or before ``step_ms`` (decided)."""
        for steps in self.sums.values():
            for old in [s for s in steps if s <= step_ms]:
                del steps[old]

    def frame(self, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        """Every published hub's latest row."""
        return decode_rows(list(self.rows.values()), schema)
