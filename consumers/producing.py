"""Producing many records at once: one record batch per partition instead of one send per record.

``send`` costs tens of microseconds of Python per record (partitioner, accumulator, a future);
appending to a per-partition batch costs a few. The partition of a key is the producer's default
partitioner (murmur2, as Kafka's Java clients), cached per key — a few thousand hub ids — so a
hub's records land where the consumers and every other producer put them.

    grouped = GroupedProducer(producer)
    await grouped.send(topic, [(key, value), ...], timeout_s=10)   # returns once all are acked
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiokafka.partitioner import DefaultPartitioner


class GroupedProducer:
    """Sends batches of records through ``producer``, grouped by partition."""

    def __init__(self, producer: Any) -> None:
        self.producer = producer
        self._partitioner = DefaultPartitioner()
        self._partition_of: dict[tuple[bytes, int], int] = {}
        # aiokafka queues one batch per partition and makes the next caller wait for it to
        # drain, taking the time waited off its timeout once per loop turn, cumulatively: with
        # many concurrent callers some time out spuriously (KafkaTimeoutError). One caller at a
        # time enqueues; the others wait here, and each waits for its own acks afterwards.
        self._enqueueing = asyncio.Lock()

    def partition_of(self, key: bytes, partitions: Sequence[int]) -> int:
        """The default partitioner's choice for ``key``, cached per (key, partition count)."""
        cached = self._partition_of.get((key, len(partitions)))
        if cached is None:
            cached = int(self._partitioner(key, list(partitions), list(partitions)))
            self._partition_of[(key, len(partitions))] = cached
        return cached

    async def send(
        self, topic: str, records: Sequence[tuple[bytes, bytes]], *, timeout_s: float
    ) -> None:
        """Produce ``(key, value)`` records, a record batch per partition; wait for the acks.

        Raises what the producer raises (KafkaError) or TimeoutError after ``timeout_s``.
        """
        producer = self.producer
        partitions = sorted(await producer.partitions_for(topic))
        grouped: dict[int, list[tuple[bytes, bytes]]] = {}
        for key, value in records:
            grouped.setdefault(self.partition_of(key, partitions), []).append((key, value))
        acks = []
        async with self._enqueueing:
            for partition, items in grouped.items():
                builder = producer.create_batch()
                for key, value in items:
                    if builder.append(timestamp=None, key=key, value=value) is None:  # full
                        acks.append(await producer.send_batch(builder, topic, partition=partition))
                        builder = producer.create_batch()
                        builder.append(timestamp=None, key=key, value=value)
                acks.append(await producer.send_batch(builder, topic, partition=partition))
        await asyncio.wait_for(asyncio.gather(*acks), timeout_s)
