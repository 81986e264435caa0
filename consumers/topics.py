"""The service's Kafka topics, created on start when missing.

hub-events             events, key = hub_id (partitions from settings)
hub-events-dlq         records that broke schema v1, with the reason in headers (64 MiB records)
hub-status             compacted: each hub's latest state, key = hub_id (the network view)
hub-state-checkpoints  compacted: engine state per events partition, key = partition number
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from core.errors import BrokerUnavailableError

log = logging.getLogger(__name__)

COMPACTED = {"cleanup.policy": "compact", "min.compaction.lag.ms": "0", "segment.ms": "600000"}
MAX_CHECKPOINT_BYTES = 64 * 1024 * 1024
"""A partition's checkpoint is a few MB at national scale (≈ 1.7 MB for 170 hubs and 2 h), over
Kafka's default 1 MB record limit: the checkpoint topic allows this much."""
CHECKPOINTS = {**COMPACTED, "max.message.bytes": str(MAX_CHECKPOINT_BYTES)}
MAX_DEAD_LETTER_BYTES = 64 * 1024 * 1024
"""The DLQ takes any record ``hub-events`` takes (up to the broker's ``message.max.bytes``, 1 MiB
by default) plus the peakwatch headers; ``consumers/dlq.py`` truncates anything larger. Equal to
the producer's ``max_request_size``."""
DEAD_LETTERS = {"max.message.bytes": str(MAX_DEAD_LETTER_BYTES)}


@dataclass(frozen=True)
class TopicNames:
    """Names of the four topics, as configured."""

    events: str = "hub-events"
    dlq: str = "hub-events-dlq"
    status: str = "hub-status"
    checkpoints: str = "hub-state-checkpoints"


def topic_specs(names: TopicNames, *, partitions: int, replication_factor: int) -> list[NewTopic]:
    """The four topics as they are created: partitions, replication and per-topic configs."""
    return [
        NewTopic(names.events, partitions, replication_factor),
        NewTopic(names.dlq, partitions, replication_factor, topic_configs=DEAD_LETTERS),
        NewTopic(names.status, partitions, replication_factor, topic_configs=COMPACTED),
        NewTopic(names.checkpoints, partitions, replication_factor, topic_configs=CHECKPOINTS),
    ]


async def ensure_topics(
    bootstrap: str, names: TopicNames, *, partitions: int, replication_factor: int = 1
) -> None:
    """Create whichever of the topics is missing; existing topics are left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        wanted = topic_specs(names, partitions=partitions, replication_factor=replication_factor)
        missing = [topic for topic in wanted if topic.name not in existing]
        if not missing:
            return
        for topic in missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another replica was first
                await admin.create_topics([topic])
        log.info("created topics %s", ", ".join(topic.name for topic in missing))
    except KafkaError as error:
        raise BrokerUnavailableError(f"cannot create topics on {bootstrap}: {error}") from error
    finally:
        await admin.close()


async def wait_for_partitions(client: Any, topic: str, *, timeout_s: float = 30.0) -> list[int]:
    """Partitions of ``topic`` as the consumer ``client`` sees them, once its metadata has them.

    Right after a topic is created the broker may not list it yet; refresh until it does.
    """
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        # A consumer's own metadata covers only the topics it subscribed to; ask the cluster.
        cluster = await client._client.fetch_all_metadata()
        partitions = cluster.partitions_for_topic(topic)
        if partitions:
            return sorted(partitions)
        if asyncio.get_running_loop().time() > deadline:
            raise BrokerUnavailableError(f"topic {topic} has no partitions after {timeout_s:.0f} s")
        await asyncio.sleep(0.2)
