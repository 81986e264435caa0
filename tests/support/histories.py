"""Alert histories of a running service, normalised so that runs of the same stream compare.

    records_of(ndjson)                 the exact (key, value) records of a simulator file
    closing_records(records, …)        one record per hub far enough ahead to close every step
    produce(bootstrap, topic, records, pace_s=)   aiokafka, key = hub_id, in file order
    produce_schedule(bootstrap, plan)  batches at given times, to given topics, one producer
    alert_histories(service)           every alert and its transitions, normalised
    first_difference(a, b)             where two normalised histories part (for the failure)
    store_progress(db_url)             evaluation marks and pending outbox rows of the store
    notification_items(receiver)       one key per webhook item, retried messages dropped
    expected_notifications(histories)  what the histories should have paged

Normalised: ids and wall-clock fields (``acked_at``, ``recorded_at``, ``detected_late_s``,
``firing_wall_at``) are dropped; event times, levels and every lifecycle transition are kept.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.alerts.notify.receiver import RobotReceiver
from tests.support.service import Service

Record = tuple[bytes, bytes]
"""(key, value) of one Kafka record."""

LIFECYCLE = ("pending", "firing", "level_changed", "resolved", "cancelled")
"""History kinds decided in event time (``acked`` and ``escalated`` are wall-clock actions)."""

Transition = tuple[str, str, str | None, str]
"""(kind, level, previous_level, at)."""


@dataclass(frozen=True, order=True)
class AlertHistory:
    """One alert occurrence as the API shows it, without ids or wall-clock fields."""

    started_at: str
    rule: str
    scope: str
    subject: str
    fired_at: str | None
    resolved_at: str | None
    transitions: tuple[Transition, ...]
    details: tuple[tuple[str, str, str], ...] = ()
    """(at, summary_en, values as JSON) at each transition: the numbers the step saw."""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """(rule, scope, subject, started_at)."""
        return (self.rule, self.scope, self.subject, self.started_at)

    def structure(self) -> AlertHistory:
        """The same history without ``details`` (levels and times only)."""
        return AlertHistory(
            self.started_at,
            self.rule,
            self.scope,
            self.subject,
            self.fired_at,
            self.resolved_at,
            self.transitions,
        )


# -- input ---------------------------------------------------------------------------------


def records_of(ndjson: Path) -> list[Record]:
    """The file's lines as records: key = hub_id, value = the line's exact bytes."""
    records: list[Record] = []
    for line in ndjson.read_bytes().splitlines():
        if line.strip():
            records.append((json.loads(line)["hub_id"].encode(), line))
    return records


def event_ms(record: Record) -> int:
    """The ``ts`` of a record (epoch ms; the simulator writes integers)."""
    ts = json.loads(record[1])["ts"]
    return int(ts)


def closing_records(
    records: list[Record], hubs: list[dict[str, Any]], *, step_s: int, lateness_s: int
) -> tuple[list[Record], int]:
    """One empty arrival per hub, stamped so that the watermark of every partition passes the
    step after the last event (and no later): (records, that final step in epoch ms).

    Without them the last ``lateness_s`` of the feed would never be evaluated (idleness is off
    in a deterministic run); with them every run, on any number of replicas, evaluates exactly
    the same steps. The final step is less than two steps after the last event, so no hub has
    been silent long enough to matter.
    """
    step_ms = step_s * 1000
    last_ms = max(event_ms(r) for r in records)
    final_ms = (last_ms // step_ms + 2) * step_ms
    closing_ms = final_ms + lateness_s * 1000
    closing = [
        (
            hub["hub_id"].encode(),
            json.dumps(
                {
                    "event_id": f"{hub['hub_id']}-closing",
                    "carrier": hub["carrier"],
                    "hub_id": hub["hub_id"],
                    "ts": closing_ms,
                    "kind": "arrival",
                    "parcels": 0,
                },
                separators=(",", ":"),
            ).encode(),
        )
        for hub in hubs
    ]
    return closing, final_ms


def by_minute(records: list[Record]) -> list[list[Record]]:
    """Consecutive records of the same event minute, in order (the file is in time order)."""
    chunks: list[list[Record]] = []
    current: int | None = None
    for record in records:
        minute = event_ms(record) // 60_000
        if minute != current or not chunks:
            chunks.append([])
            current = minute
        chunks[-1].append(record)
    return chunks


class _Sender:
    """One producer; records grouped into one record batch per partition (the default
    partitioner's choice for the key, as every Kafka client makes it), sent in order."""

    def __init__(self, bootstrap: str) -> None:
        self.producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
        )
        self.partitioner = DefaultPartitioner()
        self.partitions: dict[str, list[int]] = {}

    async def __aenter__(self) -> _Sender:
        await self.producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.producer.stop()

    async def send(self, topic: str, records: list[Record]) -> list[int]:
        """Produce ``records`` and wait for their acks; the partition of each."""
        if topic not in self.partitions:
            self.partitions[topic] = sorted(await self.producer.partitions_for(topic))
        partitions = self.partitions[topic]
        chosen = [int(self.partitioner(key, partitions, partitions)) for key, _ in records]
        grouped: dict[int, list[Record]] = {}
        for partition, record in zip(chosen, records, strict=True):
            grouped.setdefault(partition, []).append(record)
        acks = []
        for partition, items in grouped.items():
            builder = self.producer.create_batch()
            for key, value in items:
                if builder.append(timestamp=None, key=key, value=value) is None:  # full
                    acks.append(await self.producer.send_batch(builder, topic, partition=partition))
                    builder = self.producer.create_batch()
                    builder.append(timestamp=None, key=key, value=value)
            acks.append(await self.producer.send_batch(builder, topic, partition=partition))
        await asyncio.gather(*acks)
        return chosen


async def _produce(
    bootstrap: str, topic: str, chunks: list[list[Record]], pace_s: float | None
) -> list[int]:
    partitions: list[int] = []
    async with _Sender(bootstrap) as sender:
        started = time.monotonic()
        for index, chunk in enumerate(chunks):
            if pace_s is not None:
                await asyncio.sleep(max(0.0, started + index * pace_s - time.monotonic()))
            # each chunk is in Kafka before the next one is due (live: before its time)
            partitions += await sender.send(topic, chunk)
    return partitions


def produce(
    bootstrap: str,
    topic: str,
    records: list[Record],
    *,
    pace_s: float | None = None,
) -> list[int]:
    """Produce ``records`` in order (acks=all, idempotent: no reordering on retry); the partition
    of each. ``pace_s``: one event minute every ``pace_s`` wall seconds (a live feed), else all
    at once."""
    chunks = by_minute(records) if pace_s is not None else [records]
    return asyncio.run(_produce(bootstrap, topic, chunks, pace_s))


Batch = list[Record] | Callable[[], list[Record]]
"""Records, or a function making them when their time comes (live timestamps)."""


async def _schedule(bootstrap: str, plan: list[tuple[float, str, Batch]]) -> list[list[int]]:
    result: list[list[int]] = []
    async with _Sender(bootstrap) as sender:
        started = time.monotonic()
        for at_s, topic, batch in plan:
            await asyncio.sleep(max(0.0, started + at_s - time.monotonic()))
            result.append(await sender.send(topic, batch() if callable(batch) else batch))
    return result


def produce_schedule(bootstrap: str, plan: list[tuple[float, str, Batch]]) -> list[list[int]]:
    """With one producer: each batch of ``plan`` = (seconds after the start, topic, records) at
    its time, acknowledged before the next; the partitions of each batch's records."""
    return asyncio.run(_schedule(bootstrap, plan))


# -- the service's answers -----------------------------------------------------------------


def all_alerts(service: Service, **params: str) -> list[dict[str, Any]]:
    """Every alert (``state=all``), following ``next_cursor``."""
    alerts: list[dict[str, Any]] = []
    cursor: str | None = None
    with service.client() as client:
        while True:
            query: dict[str, str] = {"state": "all", "limit": "1000", **params}
            if cursor:
                query["cursor"] = cursor
            response = client.get("/v1/alerts", params=query)
            response.raise_for_status()
            body = response.json()
            alerts += body["alerts"]
            cursor = body.get("next_cursor")
            if not cursor:
                return alerts


def alert_histories(service: Service) -> list[AlertHistory]:
    """Every alert with its lifecycle transitions, sorted by (started_at, rule, scope, subject)."""
    histories: list[AlertHistory] = []
    alerts = all_alerts(service)
    with service.client() as client:
        for alert in alerts:
            response = client.get(f"/v1/alerts/{alert['id']}/history")
            response.raise_for_status()
            changes = [c for c in response.json() if c["kind"] in LIFECYCLE]
            histories.append(
                AlertHistory(
                    started_at=str(canonical(alert["started_at"])),
                    rule=alert["rule"],
                    scope=alert["scope"],
                    subject=alert["subject"],
                    fired_at=canonical(alert["fired_at"]),
                    resolved_at=canonical(alert["resolved_at"]),
                    transitions=tuple(
                        (
                            c["kind"],
                            c["alert"]["level"],
                            c["previous_level"],
                            str(canonical(c["at"])),
                        )
                        for c in changes
                    ),
                    details=tuple(
                        (
                            str(canonical(c["at"])),
                            c["alert"]["summary_en"],
                            json.dumps(c["alert"]["values"], sort_keys=True),
                        )
                        for c in changes
                    ),
                )
            )
    return sorted(histories)


def first_difference(
    name_a: str, a: list[AlertHistory], name_b: str, b: list[AlertHistory]
) -> str | None:
    """A readable account of where two normalised histories part, or None when equal."""
    if a == b:
        return None
    keys_a, keys_b = {h.key: h for h in a}, {h.key: h for h in b}
    lines = [f"{name_a}: {len(a)} alerts, {name_b}: {len(b)} alerts"]
    only_a = sorted(set(keys_a) - set(keys_b), key=lambda k: k[3])
    only_b = sorted(set(keys_b) - set(keys_a), key=lambda k: k[3])
    if only_a:
        lines.append(f"only in {name_a} (first 5 of {len(only_a)}): {only_a[:5]}")
        lines.append(f"  first: {keys_a[only_a[0]]}")
    if only_b:
        lines.append(f"only in {name_b} (first 5 of {len(only_b)}): {only_b[:5]}")
        lines.append(f"  first: {keys_b[only_b[0]]}")
    differing = sorted(
        (k for k in set(keys_a) & set(keys_b) if keys_a[k] != keys_b[k]), key=lambda k: k[3]
    )
    for key in differing[:3]:
        left, right = keys_a[key], keys_b[key]
        lines.append(f"differs: {key}")
        for field in ("fired_at", "resolved_at"):
            if getattr(left, field) != getattr(right, field):
                lines.append(f"  {field}: {getattr(left, field)} vs {getattr(right, field)}")
        pairs = list(zip(left.transitions, right.transitions, strict=False))
        step = next((i for i, (x, y) in enumerate(pairs) if x != y), len(pairs))
        lines.append(f"  transitions from #{step}: {left.transitions[step : step + 3]}")
        lines.append(f"               vs {right.transitions[step : step + 3]}")
        details = list(zip(left.details, right.details, strict=False))
        detail = (
            next((x, y) for x, y in details if x != y) if left.details != right.details else None
        )
        if detail is not None:
            lines.append(f"  first differing numbers: {detail[0]}")
            lines.append(f"                       vs {detail[1]}")
    if len(differing) > 3:
        lines.append(f"… and {len(differing) - 3} more alerts differ")
    return "\n".join(lines)


def network_watermark(service: Service) -> str | None:
    """``GET /v1/network`` ``watermark`` (the last step this replica evaluated)."""
    with service.client() as client:
        response = client.get("/v1/network")
    response.raise_for_status()
    watermark: str | None = response.json()["watermark"]
    return watermark


def readiness(service: Service) -> dict[str, Any]:
    """The body of ``/readyz`` (200 or 503)."""
    with service.client() as client:
        body: dict[str, Any] = client.get("/readyz").json()
    return body


def consumer_records(service: Service, outcome: str = "applied") -> int:
    """``peakwatch_consumer_records_total{outcome=…}`` of this process (0 if absent)."""
    with service.client() as client:
        response = client.get("/metrics")
    response.raise_for_status()
    pattern = rf'^peakwatch_consumer_records_total\{{outcome="{outcome}"\}} ([0-9.e+]+)$'
    found = re.search(pattern, response.text, re.M)
    return int(float(found.group(1))) if found else 0


def applied_records(service: Service) -> int:
    """Records applied by this process (``outcome="applied"``)."""
    return consumer_records(service, "applied")


PARTIAL_NETWORK_STEP = "decided without partitions"
"""The warning of a network step decided without some partitions' sums (consumers/network_steps)."""


def log_lines(service: Service, needle: str) -> list[str]:
    """Lines of the service's log that contain ``needle``."""
    text_value = service.log_path.read_text(errors="replace")
    return [line for line in text_value.splitlines() if needle in line]


def to_datetime(text_value: str) -> datetime:
    """An RFC 3339 string of the API as an aware datetime."""
    return datetime.fromisoformat(text_value.replace("Z", "+00:00")).astimezone(UTC)


def canonical(text_value: str | None) -> str | None:
    """One spelling of an RFC 3339 time (the API and the webhook body may differ in form)."""
    return None if text_value is None else to_datetime(text_value).isoformat()


# -- the store -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreProgress:
    """Evaluation marks (scope key → last step decided, epoch ms) and undelivered outbox rows."""

    marks: dict[str, int]
    outbox_pending: int
    outbox_total: int


async def _progress(db_url: str) -> StoreProgress:
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as connection:
            marks = await connection.execute(
                text("SELECT scope_key, step_at FROM evaluation_marks")
            )
            rows = marks.all()
            pending = await connection.scalar(
                text("SELECT count(*) FROM outbox WHERE state = 'pending'")
            )
            total = await connection.scalar(text("SELECT count(*) FROM outbox"))
    finally:
        await engine.dispose()
    return StoreProgress(
        marks={str(key): _epoch_ms(step) for key, step in rows},
        outbox_pending=int(pending or 0),
        outbox_total=int(total or 0),
    )


def _epoch_ms(value: Any) -> int:
    if isinstance(value, str):  # SQLite hands DATETIME back as text through a raw query
        value = datetime.fromisoformat(value)
    moment: datetime = value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def store_progress(db_url: str) -> StoreProgress:
    """Read the store directly (SQLite file or PostgreSQL); the tables may not exist yet."""
    try:
        return asyncio.run(_progress(db_url))
    except Exception as error:  # not migrated yet: no progress
        if "no such table" in str(error) or "does not exist" in str(error):
            return StoreProgress({}, 0, 0)
        raise


CancelledPending = tuple[str, str, str, str, tuple[tuple[str, str, int], ...]]
"""(rule, scope, subject, started_at, ((kind, level, at ms), …)) of a pending alert cancelled."""


async def _cancelled(db_url: str) -> list[CancelledPending]:
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                text(
                    "SELECT alert_id, kind, at, alert_json FROM alert_events"
                    " WHERE alert_id NOT IN (SELECT id FROM alerts) ORDER BY id"
                )
            )
            rows = result.all()
    finally:
        await engine.dispose()
    by_alert: dict[str, list[tuple[str, str, int, dict[str, Any]]]] = {}
    for alert_id, kind, at, alert_json in rows:
        alert = json.loads(alert_json) if isinstance(alert_json, str) else alert_json
        by_alert.setdefault(alert_id, []).append((kind, alert["level"], _epoch_ms(at), alert))
    occurrences = []
    for changes in by_alert.values():
        first = changes[0][3]
        occurrences.append(
            (
                first["rule"],
                first["scope"],
                first["subject"],
                str(canonical(first["started_at"])),
                tuple((kind, level, at) for kind, level, at, _ in changes),
            )
        )
    return sorted(occurrences, key=lambda o: (o[3], o[0], o[1], o[2]))


def cancelled_pending(db_url: str) -> list[CancelledPending]:
    """Pending alerts that were cancelled (their rows are deleted, so the API no longer lists
    them; the store's history keeps them), read from the store."""
    return asyncio.run(_cancelled(db_url))


# -- notifications -------------------------------------------------------------------------

NotificationKey = tuple[str, str, str, str, str, str, str | None]
"""(rule, scope, subject, started_at, kind, level, previous_level): one page about one
transition of one alert occurrence."""

NOTIFIED = {"firing": "firing", "level_changed": "level_changed", "resolved": "resolved"}
"""History kind → the notification kind it causes (to every receiver its route names)."""


def expected_notifications(histories: list[AlertHistory]) -> list[NotificationKey]:
    """What one receiver routed every alert must be told, from the alert histories: each firing,
    each level change, and the resolve of an alert that fired."""
    expected: list[NotificationKey] = []
    for history in histories:
        for kind, level, previous, _at in history.transitions:
            if kind in NOTIFIED:
                expected.append(
                    (
                        history.rule,
                        history.scope,
                        history.subject,
                        history.started_at,
                        NOTIFIED[kind],
                        level,
                        previous if kind == "level_changed" else None,
                    )
                )
    return sorted(expected, key=repr)


def notification_items(receiver: RobotReceiver) -> tuple[list[NotificationKey], int]:
    """Every item of the accepted webhook messages, once per notification id (a receiver drops
    a message it got twice: the at-least-once retry after a crash between send and record), and
    how many messages were such retries."""
    seen: set[str] = set()
    retries = 0
    items: list[NotificationKey] = []
    for message in receiver.accepted("/hook"):
        notification_id = message.headers.get("x-peakwatch-notification-id", "")
        if notification_id in seen:
            retries += 1
            continue
        seen.add(notification_id)
        for item in message.json()["items"]:
            alert = item["alert"]
            items.append(
                (
                    alert["rule"],
                    alert["scope"],
                    alert["subject"],
                    str(canonical(alert["started_at"])),
                    item["kind"],
                    alert["level"],
                    item["previous_level"],
                )
            )
    return sorted(items, key=repr), retries


def repeated(items: list[NotificationKey]) -> dict[NotificationKey, int]:
    """The items that arrived more than once, with their counts."""
    return {key: count for key, count in Counter(items).items() if count > 1}
