"""Engine state checkpoints in the compacted ``hub-state-checkpoints`` topic.

One record per ``hub-events`` partition (key ``<group>/<partition>``): the engine state of that
partition's hubs and the offset of the next record to apply. On assignment a replica loads the
latest checkpoint of each new partition and replays ``hub-events`` from its offset, so a restart
or a rebalance neither loses nor double-counts anything (the checkpoint holds the de-duplication
keys too). A partition with no checkpoint replays from the start of the topic.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from consumers.topics import MAX_CHECKPOINT_BYTES, wait_for_partitions

FORMAT_VERSION = 1
_HEADER_LENGTH = struct.Struct(">I")


@dataclass(frozen=True)
class Checkpoint:
    """State of one events partition and where to resume it."""

    partition: int
    next_offset: int
    state: bytes


def encode(checkpoint: Checkpoint) -> bytes:
    """Length-prefixed JSON header, then the engine's state bytes."""
    header = json.dumps(
        {
            "v": FORMAT_VERSION,
            "partition": checkpoint.partition,
            "next_offset": checkpoint.next_offset,
        }
    ).encode()
    return _HEADER_LENGTH.pack(len(header)) + header + checkpoint.state


def decode(value: bytes) -> Checkpoint:
    """The inverse of ``encode``."""
    (length,) = _HEADER_LENGTH.unpack_from(value)
    header = json.loads(value[4 : 4 + length])
    if header.get("v") != FORMAT_VERSION:
        raise ValueError(f"unknown checkpoint format {header.get('v')!r}")
    return Checkpoint(int(header["partition"]), int(header["next_offset"]), value[4 + length :])


def checkpoint_key(group: str, partition: int) -> bytes:
    """The compaction key of a partition's checkpoint."""
    return f"{group}/{partition}".encode()


async def write_checkpoints(
    producer: Any, topic: str, group: str, checkpoints: list[Checkpoint]
) -> None:
    """Store checkpoints (acks=all); return once Kafka has them all."""
    for checkpoint in checkpoints:
        await producer.send_and_wait(
            topic, value=encode(checkpoint), key=checkpoint_key(group, checkpoint.partition)
        )


async def read_checkpoints(
    bootstrap: str, topic: str, group: str, partitions: set[int]
) -> dict[int, Checkpoint]:
    """The latest checkpoint of each of ``partitions`` that has one."""
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_bytes=MAX_CHECKPOINT_BYTES,
        max_partition_fetch_bytes=MAX_CHECKPOINT_BYTES,
    )
    await reader.start()
    try:
        partitions_of_topic = await wait_for_partitions(reader, topic)
        topic_partitions = [TopicPartition(topic, p) for p in partitions_of_topic]
        reader.assign(topic_partitions)
        await reader.seek_to_beginning(*topic_partitions)
        ends = await reader.end_offsets(topic_partitions)
        wanted = {checkpoint_key(group, p): p for p in partitions}
        latest: dict[int, Checkpoint] = {}
        remaining = {tp for tp in topic_partitions if ends[tp] > 0}
        while remaining:
            batches = await reader.getmany(*remaining, timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    if record.key in wanted and record.value is not None:
                        latest[wanted[record.key]] = decode(record.value)
            for tp in list(remaining):
                if await reader.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return latest
    finally:
        await reader.stop()
