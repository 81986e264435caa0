"""Where simulated events go: Kafka, the HTTP API, a JSON-lines file, or nowhere.

    KafkaSink(bootstrap, topic)     aiokafka producer, key = hub_id, acks=all, batched per partition
    HttpSink(url, api_keys)         POST {url}/v1/events in batches; honours 429/503 Retry-After
    NdjsonSink(stream)              one record per line (for replay or inspection)
    NullSink()                      generate only (benchmarks, writing labels and hubs)

Every sink's ``send`` returns once its records are accepted (Kafka acknowledged, HTTP 202, or
written); nothing is dropped silently: a sink that cannot deliver raises ``SinkError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import IO, Any, Protocol

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from core.errors import BrokerUnavailableError, PeakwatchError
from simulator.simulation import MinuteBatch

TOPIC = "hub-events"
HTTP_BATCH_EVENTS = 2_000
HTTP_MAX_ATTEMPTS = 8
HTTP_MAX_WAIT_S = 30.0
KAFKA_BATCH_BYTES = 256 * 1024


class SinkError(PeakwatchError):
    """A sink could not deliver records; ``retryable`` says whether trying later may help."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class Sink(Protocol):
    """Takes one minute's batch at a time."""

    async def send(self, batch: MinuteBatch) -> int:
        """Deliver the batch; return how many records went out."""
        ...

    async def close(self) -> None:
        """Flush and release connections."""
        ...


@dataclass
class SinkStats:
    """What a sink has delivered so far (HTTP sinks also count per-item rejects)."""

    records: int = 0
    rejected: int = 0


class NullSink:
    """Counts records and sends them nowhere."""

    def __init__(self) -> None:
        self.stats = SinkStats()

    async def send(self, batch: MinuteBatch) -> int:
        """Count the batch."""
        self.stats.records += len(batch)
        return len(batch)

    async def close(self) -> None:
        """Nothing to release."""


class NdjsonSink:
    """Writes records as JSON lines to a binary stream."""

    def __init__(self, stream: IO[bytes], *, close: bool = True) -> None:
        self._stream = stream
        self._close = close
        self.stats = SinkStats()

    async def send(self, batch: MinuteBatch) -> int:
        """Write one line per record."""
        records = batch.records()
        if records:
            self._stream.write(b"\n".join(records) + b"\n")
        self.stats.records += len(records)
        return len(records)

    async def close(self) -> None:
        """Flush the stream, and close it if this sink opened it."""
        self._stream.flush()
        if self._close:
            self._stream.close()


class KafkaSink:
    """Produces each record to ``topic`` with its hub id as key; waits for acks=all per batch."""

    def __init__(self, bootstrap: str, topic: str = TOPIC) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            linger_ms=5,
            max_batch_size=KAFKA_BATCH_BYTES,
            request_timeout_ms=30_000,
        )
        self._topic = topic
        self._bootstrap = bootstrap
        self._partitions: list[int] = []
        self._partition_of: dict[bytes, int] = {}
        self._started = False
        self.stats = SinkStats()

    async def start(self) -> None:
        """Connect and learn the topic's partitions."""
        try:
            await self._producer.start()
            self._started = True
        except Exception as error:
            await self._producer.stop()
            raise BrokerUnavailableError(f"Kafka at {self._bootstrap}: {error!r}") from error
        try:
            self._partitions = sorted(await self._producer.partitions_for(self._topic))
        except Exception as error:
            raise BrokerUnavailableError(
                f"Kafka topic {self._topic} at {self._bootstrap} is not there ({error!r}); "
                "`peakwatch serve` creates it"
            ) from error

    async def send(self, batch: MinuteBatch) -> int:
        """Produce the batch, grouped by partition; return once every record is acknowledged."""
        by_partition: dict[int, list[tuple[bytes, bytes]]] = {}
        for key, value in zip(batch.keys(), batch.records(), strict=True):
            by_partition.setdefault(self._partition(key), []).append((key, value))
        futures: list[Awaitable[Any]] = []
        for partition, records in by_partition.items():
            builder = self._producer.create_batch()
            for key, value in records:
                if builder.append(timestamp=None, key=key, value=value) is None:
                    futures.append(await self._submit(builder, partition))
                    builder = self._producer.create_batch()
                    builder.append(timestamp=None, key=key, value=value)
            futures.append(await self._submit(builder, partition))
        try:
            await asyncio.gather(*futures)
        except Exception as error:
            raise BrokerUnavailableError(f"Kafka did not acknowledge a batch: {error}") from error
        self.stats.records += len(batch)
        return len(batch)

    async def close(self) -> None:
        """Flush what is pending and disconnect."""
        if self._started:
            self._started = False
            await self._producer.stop()

    async def _submit(self, builder: Any, partition: int) -> Awaitable[Any]:
        future: Awaitable[Any] = await self._producer.send_batch(
            builder, self._topic, partition=partition
        )
        return future

    def _partition(self, key: bytes) -> int:
        # The producer's own default partitioner (murmur2), cached: a few thousand hub ids.
        partition = self._partition_of.get(key)
        if partition is None:
            partition = DefaultPartitioner()(key, self._partitions, self._partitions)
            self._partition_of[key] = partition
        return int(partition)


@dataclass
class HttpSink:
    """Posts batches to ``{url}/v1/events``; per-carrier keys (``carrier -> key``) or one key."""

    url: str
    api_keys: dict[str, str]  # carrier code -> key; "" -> the key for every carrier
    batch_events: int = HTTP_BATCH_EVENTS
    client: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=30.0))
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    stats: SinkStats = field(default_factory=SinkStats)

    async def send(self, batch: MinuteBatch) -> int:
        """Post the batch (split by carrier key and size); raise ``SinkError`` if refused."""
        records = batch.records()
        json_ok = [True] * batch.events.height + [r.is_json_object for r in batch.malformed]
        groups: dict[str, list[tuple[bytes, bool]]] = {}
        for key, record, ok in zip(batch.keys(), records, json_ok, strict=True):
            groups.setdefault(self._key_for(key), []).append((record, ok))
        for api_key, items in groups.items():
            for first in range(0, len(items), self.batch_events):
                await self._post(api_key, items[first : first + self.batch_events])
        self.stats.records += len(records)
        return len(records)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()

    def _key_for(self, hub_key: bytes) -> str:
        carrier = hub_key.split(b"-", 1)[0].decode()
        key = self.api_keys.get(carrier) or self.api_keys.get("")
        if key is None:
            raise SinkError(f"api-key: no key for carrier {carrier} (give CODE=KEY or one key)")
        return key

    async def _post(self, api_key: str, items: list[tuple[bytes, bool]]) -> None:
        if all(ok for _, ok in items):
            body = b'{"events":[' + b",".join(record for record, _ in items) + b"]}"
            content_type = "application/json"
        else:  # a record that is not a JSON object can only travel as its own ndjson line
            body = b"\n".join(record for record, _ in items)
            content_type = "application/x-ndjson"
        headers = {"Authorization": f"Bearer {api_key}", "Content-Type": content_type}
        for attempt in range(1, HTTP_MAX_ATTEMPTS + 1):
            try:
                response = await self.client.post(
                    f"{self.url}/v1/events", content=body, headers=headers
                )
            except httpx.TransportError as error:
                if attempt == HTTP_MAX_ATTEMPTS:
                    raise SinkError(f"POST /v1/events: {error}", retryable=True) from error
                await self.sleep(min(2.0**attempt, HTTP_MAX_WAIT_S))
                continue
            if response.status_code in (429, 503) and attempt < HTTP_MAX_ATTEMPTS:
                await self.sleep(retry_after_s(response.headers.get("Retry-After"), attempt))
                continue
            if response.status_code == 202:
                self.stats.rejected += len(response.json().get("rejected") or [])
                return
            raise SinkError(
                f"POST /v1/events answered {response.status_code}: {response.text[:300]}",
                retryable=response.status_code in (429, 503),
            )


def retry_after_s(header: str | None, attempt: int) -> float:
    """Seconds to wait from a Retry-After header (seconds or HTTP date), else backoff."""
    if header:
        try:
            return min(max(float(header), 0.0), HTTP_MAX_WAIT_S)
        except ValueError:
            try:
                moment = parsedate_to_datetime(header)
            except (TypeError, ValueError):
                pass
            else:
                wait = (moment - datetime.now(UTC)).total_seconds()
                return min(max(wait, 0.0), HTTP_MAX_WAIT_S)
    return min(0.5 * 2.0**attempt, HTTP_MAX_WAIT_S)
