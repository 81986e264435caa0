"""One Kafka batch through the core: decode, check against the registry, apply to the engine.

Synchronous and free of Kafka objects so that it runs in a worker thread (Polars releases the GIL)
and is tested without a broker. Every record comes out counted as applied, duplicate, late (applied
behind the watermark), dead-lettered or quarantined.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from core.engine import Engine
from core.events import REJECT_SCHEMA, decode_batch
from core.registry import check_events


@dataclass(frozen=True)
class RawBatch:
    """Record values of one getmany call with where each came from (parallel lists)."""

    values: list[bytes]
    partitions: list[int]
    offsets: list[int]
    timestamps_ms: list[int]


@dataclass(frozen=True)
class DeadLetter:
    """A record that will not be applied: where it came from, its bytes, and why."""

    partition: int
    offset: int
    value: bytes
    reason_code: str  # malformed | schema | unknown_hub | carrier_mismatch | future_ts
    field: str
    reason: str


@dataclass
class BatchOutcome:
    """What happened to every record of a batch."""

    applied: int = 0
    duplicate: int = 0
    late: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)

    @property
    def dead_lettered(self) -> int:
        """Records sent to the DLQ (quarantined ones included)."""
        return len(self.dead_letters)


def _reason_code(field_name: str, reason: str) -> str:
    if field_name == "(record)":
        return "malformed"
    if field_name == "hub_id" and reason == "must be a registered hub":
        return "unknown_hub"
    if field_name == "carrier" and reason.startswith("must match the hub"):
        return "carrier_mismatch"
    return "schema"


def process_batch(
    engine: Engine, registry: pl.DataFrame, raw: RawBatch, *, now: datetime
) -> BatchOutcome:
    """Decode ``raw`` in one Polars call, apply the valid events to ``engine``, list the rest.

    ``now`` is the wall clock, used only to quarantine events stamped too far in the future.
    """
    decoded = decode_batch(raw.values)
    events, unregistered = check_events(decoded.events, registry)
    partitions = pl.Series("partition", raw.partitions, dtype=pl.Int32)
    events = events.with_columns(partitions.gather(events["index"]))
    result = engine.apply(events, now=now)
    rejects = pl.concat([decoded.rejects, unregistered, result.quarantined.cast(REJECT_SCHEMA)])  # type: ignore[arg-type]
    outcome = BatchOutcome(applied=result.applied, duplicate=result.duplicate, late=result.late)
    quarantined = set(result.quarantined["index"].to_list())
    for index, field_name, reason in rejects.iter_rows():
        code = "future_ts" if index in quarantined else _reason_code(field_name, reason)
        outcome.dead_letters.append(
            DeadLetter(
                partition=raw.partitions[index],
                offset=raw.offsets[index],
                value=raw.values[index],
                reason_code=code,
                field=field_name,
                reason=reason,
            )
        )
    return outcome
