"""A real Kafka broker for the test session: the local one, or PEAKWATCH_KAFKA_BOOTSTRAP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import local_kafka


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[local_kafka.Broker | None]:
    """The session's own broker (None when PEAKWATCH_KAFKA_BOOTSTRAP points at another one)."""
    if os.environ.get("PEAKWATCH_KAFKA_BOOTSTRAP"):
        yield None
        return
    state_dir: Path = tmp_path_factory.mktemp("kafka")
    broker = local_kafka.start(state_dir, partitions=4, heap_mb=512)
    try:
        yield broker
    finally:
        local_kafka.stop(state_dir)


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: local_kafka.Broker | None) -> str:
    """``127.0.0.1:PORT`` of a broker that takes clients."""
    if kafka_broker is None:
        return os.environ["PEAKWATCH_KAFKA_BOOTSTRAP"]
    return kafka_broker.bootstrap
