"""One Kafka batch through the core: decode, check against the registry, apply to the engine.

Synchronous and free of Kafka objects so that it runs in a worker thread (Polars releases the GIL)
and is tested without a broker. Every record comes out counted as applied, duplicate, late (applied
behind the watermark), dead-lettered or quarantined.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from core.engine import Engine
from core.events import EVENT_SCHEMA, RECORD, REJECT_SCHEMA, DecodedBatch, decode_batch
from core.registry import check_events
from core.vocabulary import RejectReason

log = logging.getLogger(__name__)

REASON_CODES: tuple[RejectReason, ...] = tuple(RejectReason)
"""Every ``DeadLetter.reason_code`` (the DLQ header and the ``reason`` label of the DLQ counter),
from ``core.vocabulary``; each reject row carries its code from the check that found it."""

UNDECODABLE_RULE = "could not be decoded (a peakwatch bug: the service log has the trace)"


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
    reason_code: RejectReason
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


def process_batch(
    engine: Engine, registry: pl.DataFrame, raw: RawBatch, *, now: datetime
) -> BatchOutcome:
    """Decode ``raw`` in one Polars call, apply the valid events to ``engine``, list the rest.

    ``now`` is the wall clock, used only to quarantine events stamped too far in the future.
    Decoding raises nothing: a record that cannot be decoded becomes a dead letter.
    """
    decoded = _decode(raw)
    events, unregistered = check_events(decoded.events, registry)
    partitions = pl.Series("partition", raw.partitions, dtype=pl.Int32)
    events = events.with_columns(partitions.gather(events["index"]))
    result = engine.ingest(events, now=now)  # its steps run after the batch (the consumer)
    rejects = pl.concat([decoded.rejects, unregistered, result.quarantined.cast(REJECT_SCHEMA)])  # type: ignore[arg-type]
    outcome = BatchOutcome(applied=result.applied, duplicate=result.duplicate, late=result.late)
    for index, field_name, reason, code in rejects.iter_rows():
        outcome.dead_letters.append(
            DeadLetter(
                partition=raw.partitions[index],
                offset=raw.offsets[index],
                value=raw.values[index],
                reason_code=RejectReason(code),
                field=field_name,
                reason=reason,
            )
        )
    if outcome.dead_letters:
        _log_dead_letters(outcome.dead_letters, total=len(raw.values))
    return outcome


def _log_dead_letters(letters: list[DeadLetter], *, total: int) -> None:
    """One line per batch: how many records went to the DLQ, by reason code, and the first."""
    counts: dict[str, int] = {}
    for letter in letters:
        counts[letter.reason_code] = counts.get(letter.reason_code, 0) + 1
    first = letters[0]
    log.warning(
        "dead-lettered %d of %d records (%s); first: partition %d offset %d, %s: %s",
        len(letters),
        total,
        ", ".join(f"{code} {count}" for code, count in sorted(counts.items())),
        first.partition,
        first.offset,
        first.field,
        first.reason,
    )


def _decode(raw: RawBatch) -> DecodedBatch:
    """``decode_batch``; should it ever raise (a bug), the same one record at a time.

    A record the decoder cannot handle is then dead-lettered (``decode_error``) instead of the
    batch being retried for ever while its partition stands still.
    """
    values = raw.values
    try:
        return decode_batch(values)
    except (Exception, pl.exceptions.PanicException):
        log.exception("decoding a batch of %d records failed: decoding one by one", len(values))
    events = [pl.DataFrame(schema={"index": pl.UInt32(), **EVENT_SCHEMA})]
    rejects = [pl.DataFrame(schema=REJECT_SCHEMA)]
    for index, value in enumerate(values):
        position = pl.lit(index, dtype=pl.UInt32())
        try:
            one = decode_batch([value])
        except (Exception, pl.exceptions.PanicException) as error:
            log.exception(
                "record at partition %d offset %d could not be decoded: dead-lettered",
                raw.partitions[index],
                raw.offsets[index],
            )
            reason = f"{UNDECODABLE_RULE}, {error.__class__.__name__}"
            code = RejectReason.DECODE_ERROR.value
            one_reject = {"index": [index], "field": [RECORD], "reason": [reason], "code": [code]}
            rejects.append(pl.DataFrame(one_reject, schema=REJECT_SCHEMA))
            continue
        events.append(one.events.with_columns(index=position))
        rejects.append(one.rejects.with_columns(index=position))
    return DecodedBatch(events=pl.concat(events), rejects=pl.concat(rejects))
