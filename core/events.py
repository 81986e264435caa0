"""Event schema v1: the pydantic model for HTTP and the fixed Polars frame for Kafka batches.

Both paths apply the same rules (see docs/events.md). A rejection always names the field and the
rule, so a sender can act on it.

    decode_batch(values)  Kafka record values (bytes) -> DecodedBatch(events, rejects); never raises
    HubEvent              one event over HTTP (pydantic, strict)

Whatever the bytes, every Kafka record comes out once, as an event or a reject: limits on size,
encoding and nesting depth are checked before any parser runs (docs/events.md, "Limits").
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.vocabulary import REASON_DTYPE, RejectReason

KINDS = ("arrival", "departure", "backlog")
KIND_DTYPE = pl.Enum(list(KINDS))
TS_DTYPE = pl.Datetime("ms", "UTC")

MAX_EVENT_ID_CHARS = 128
MAX_HUB_ID_CHARS = 64
MAX_PARCELS = 100_000_000
CARRIER_PATTERN = r"^[A-Z0-9_]{1,16}$"
EPOCH_MS_PATTERN = r"^-?[0-9]{1,15}$"
COUNT_PATTERN = r"^[0-9]{1,9}$"
# RFC 3339 with an explicit offset (or Z); a timestamp without one is ambiguous and rejected.
RFC3339_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%#z"

MAX_RECORD_BYTES = 64 * 1024
"""Largest Kafka record value decoded. An event is about 150 bytes; the bound leaves room for
extra fields and caps the work one record can cause."""
MAX_NESTING_DEPTH = 32
"""Deepest nesting of objects and arrays in a record (an event is 1). The Polars JSON reader
recurses per level and crashes the process a few thousand levels down, so depth is measured by a
byte scan before it runs."""
UTF8_BOM = b"\xef\xbb\xbf"
"""Written ahead of JSON by many .NET and Windows producers: stripped, and the record accepted."""
MAX_EXPONENT_DIGITS = 11
"""Longest exponent of a JSON number (``1e-99999999999``) the reader is sure to hold."""

RECORD = "(record)"
"""The ``field`` of a reject that concerns the whole record rather than one of its fields."""
# Rules of the whole record; each reject row carries its DLQ reason code (``code``) beside it.
TOO_LARGE_RULE = f"must be at most {MAX_RECORD_BYTES} bytes"
TOO_DEEP_RULE = f"must nest objects and arrays at most {MAX_NESTING_DEPTH} levels deep"
NOT_UTF8_RULE = "must be UTF-8"
NOT_JSON_RULE = "not valid JSON"
NOT_OBJECT_RULE = "must be a JSON object"
NON_FINITE_RULE = "must be a JSON number, not NaN or Infinity"
NUMBER_RANGE_RULE = (
    "must be an integer within 128 bits or a float within ±1.8e308 (exponent of at most 11 digits)"
)

EVENT_SCHEMA: dict[str, pl.DataType] = {
    "carrier": pl.String(),
    "event_id": pl.String(),
    "hub_id": pl.String(),
    "ts": TS_DTYPE,
    "kind": KIND_DTYPE,
    "parcels": pl.Int64(),
    "from_hub": pl.String(),
    "to_hub": pl.String(),
}
"""Columns of a decoded event frame, in order. Kafka adds ``partition`` and ``offset``."""

REJECT_SCHEMA: dict[str, pl.DataType] = {
    "index": pl.UInt32(),
    "field": pl.String(),
    "reason": pl.String(),
    "code": REASON_DTYPE,
}
"""Columns of a reject frame: position in the batch, the field at fault, the rule broken, and
its reason code (``core.vocabulary.RejectReason``), set by the check that found it."""

_RAW_FIELDS = ("event_id", "carrier", "hub_id", "ts", "kind", "parcels", "from_hub", "to_hub")
_RAW_SCHEMA = {name: pl.String() for name in _RAW_FIELDS}


@dataclass(frozen=True)
class DecodedBatch:
    """Valid events (``EVENT_SCHEMA`` plus ``index``) and one reject row per bad record."""

    events: pl.DataFrame
    rejects: pl.DataFrame


def empty_events() -> pl.DataFrame:
    """An event frame with no rows."""
    return pl.DataFrame(schema=EVENT_SCHEMA)


def empty_rejects() -> pl.DataFrame:
    """A reject frame with no rows."""
    return pl.DataFrame(schema=REJECT_SCHEMA)


def decode_batch(values: list[bytes]) -> DecodedBatch:
    """Decode Kafka record values and check every rule of schema v1; whatever the bytes, no raise.

    Each input position comes out exactly once, as an event row (its ``index``) or a reject row,
    so that rejects (and the DLQ) point back at the original record. Limits come first; a clean
    batch is then parsed as one newline-delimited document in one Polars call. A batch that Polars
    refuses is decoded record by record, so that a bad record only rejects itself.
    """
    kept, over_limits = _check_limits(values)
    raw, malformed = _read_raw(kept)
    events, rejects = _check_rules(raw)
    if over_limits.height or malformed.height:
        rejects = pl.concat([over_limits, malformed, rejects]).sort("index")
    return DecodedBatch(events=events, rejects=rejects)


# --- Limits, before any parser ----------------------------------------------------------------


@dataclass(frozen=True)
class _Kept:
    """Records within the limits (BOM stripped), their positions, and their NDJSON document."""

    values: list[bytes]
    indices: Sequence[int]
    document: bytes | None  # the values joined by newlines, when each is exactly one line


# Keep line breaks and opening brackets only, "[" written as "{": a record's line then bounds
# its depth by its length.
_OPENERS = bytes.maketrans(b"[", b"{")
_NOT_OPENERS = bytes(set(range(256)) - set(b"{[\n\r"))


def _check_limits(values: list[bytes]) -> tuple[_Kept, pl.DataFrame]:
    """Split records into those within the limits and the rejects of the others."""
    document = b"\n".join(values)
    if _all_within_limits(values, document):
        return _Kept(values, range(len(values)), document), empty_rejects()
    kept_values: list[bytes] = []
    kept_indices: list[int] = []
    bad: list[tuple[int, str, str, RejectReason]] = []
    for index, value in enumerate(values):
        value, fault = _record_within_limits(value)
        if fault is None:
            kept_values.append(value)
            kept_indices.append(index)
        else:
            bad.append((index, RECORD, *fault))
    return _Kept(kept_values, kept_indices, _ndjson_document(kept_values)), _record_rejects(bad)


def _all_within_limits(values: list[bytes], document: bytes) -> bool:
    """Whole-batch check in a few C-speed passes: every record small, shallow, without a BOM.

    UTF-8 is left to the Polars reader here: it validates each line before parsing and refuses an
    invalid one, and the slow path then names the rule for that record.
    """
    if not document.isascii() and (document.startswith(UTF8_BOM) or b"\n" + UTF8_BOM in document):
        return False
    if len(document) > MAX_RECORD_BYTES and max(map(len, values)) > MAX_RECORD_BYTES:
        return False
    openers = document.translate(_OPENERS, _NOT_OPENERS)
    if openers.count(b"\n") != len(values) - 1 or b"\r" in openers:
        return False  # a record spans lines: check each record on its own
    return b"{" * (MAX_NESTING_DEPTH + 1) not in openers


def _record_within_limits(value: bytes) -> tuple[bytes, tuple[str, RejectReason] | None]:
    """The record without a leading BOM, and the limit it breaks with its code (None when
    within all)."""
    if len(value) > MAX_RECORD_BYTES:
        return value, (f"{TOO_LARGE_RULE}, got {len(value)}", RejectReason.TOO_LARGE)
    if value.startswith(UTF8_BOM):
        value = value[len(UTF8_BOM) :]
    fault = _utf8_fault(value)
    if fault is not None:
        return value, (fault, RejectReason.ENCODING)
    if value.count(b"{") + value.count(b"[") > MAX_NESTING_DEPTH:
        depth = nesting_depth(value)
        if depth > MAX_NESTING_DEPTH:
            return value, (f"{TOO_DEEP_RULE}, got {depth}", RejectReason.TOO_DEEP)
    return value, None


def _utf8_fault(value: bytes) -> str | None:
    """Why ``value`` is not UTF-8, or None when it is."""
    if value.isascii():
        return None
    try:
        value.decode()
    except UnicodeDecodeError as error:
        if value.startswith((b"\xff\xfe", b"\xfe\xff")):
            return f"{NOT_UTF8_RULE}, got UTF-16 (its byte-order mark)"
        return f"{NOT_UTF8_RULE} ({error.reason} at byte {error.start})"
    return None


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_DEPTH_STEP = np.zeros(256, dtype=np.int64)
_DEPTH_STEP[list(b"[{")] = 1
_DEPTH_STEP[list(b"]}")] = -1


def nesting_depth(text: bytes) -> int:
    """How deep objects and arrays nest in a JSON text, brackets inside strings not counted.

    Linear in the size of ``text``. Text after an unterminated string is part of that string to a
    parser and is not counted. When a bracket closes before any opened (not JSON), every opening
    bracket counts: the answer is then an upper bound.
    """
    outside = _JSON_STRING.sub(b"", text).split(b'"', 1)[0]
    steps = _DEPTH_STEP[np.frombuffer(outside, dtype=np.uint8)]
    if not steps.size:
        return 0
    levels = np.cumsum(steps)
    if levels.min() < 0:
        return int((steps > 0).sum())
    return int(levels.max())


def _ndjson_document(values: list[bytes]) -> bytes | None:
    """The values as one NDJSON document, or None when one of them spans lines."""
    document = b"\n".join(values)
    if document.count(b"\n") == len(values) - 1 and b"\r" not in document:
        return document
    return None


def _record_rejects(rows: list[tuple[int, str, str, RejectReason]]) -> pl.DataFrame:
    """A reject frame of (index, field, reason, code) rows."""
    return pl.DataFrame(rows, schema=REJECT_SCHEMA, orient="row")


# --- Reading: one Polars call, or record by record --------------------------------------------


def _empty_raw() -> pl.DataFrame:
    return pl.DataFrame(schema={"index": pl.UInt32(), **_RAW_SCHEMA})


def _read_raw(kept: _Kept) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse JSON objects to a frame of strings; return it with the rejects of unreadable ones."""
    if not kept.values:
        return _empty_raw(), empty_rejects()
    if kept.document is not None:
        frame = _read_ndjson(kept.document, rows=len(kept.values))
        if isinstance(frame, pl.DataFrame):
            return _with_index(frame, kept.indices), empty_rejects()
    return _read_raw_isolating(kept.values, kept.indices, whole_refused=kept.document is not None)


def _read_ndjson(document: bytes, *, rows: int) -> pl.DataFrame | str:
    """``rows`` JSON objects, one a line, as string columns; or why Polars would not read them."""
    try:
        frame = pl.read_ndjson(io.BytesIO(document), schema=_RAW_SCHEMA)
    except (Exception, pl.exceptions.PanicException) as error:  # the records decide, not the type
        return str(error).strip().partition("\n")[0][:200]
    if frame.height != rows:
        return f"{rows} records read as {frame.height} rows"
    return frame


def _with_index(frame: pl.DataFrame, indices: Sequence[int]) -> pl.DataFrame:
    if isinstance(indices, range) and indices.start == 0 and indices.step == 1:
        return frame.with_row_index("index")
    return frame.with_columns(index=pl.Series(indices, dtype=pl.UInt32())).select(
        "index", *_RAW_FIELDS
    )


_SMALL_PART = 256
"""A refused part of a batch this small has its records explained by Python before halving on."""


def _read_raw_isolating(
    values: list[bytes], indices: Sequence[int], *, whole_refused: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Slow path for a batch that Polars refused: read every record it can, reject the others.

    A refused part is halved; once small, Python's parser names the field and the rule of its bad
    records, and what Python passes but Polars still refuses is halved down to single records
    (Polars decides). One bad record among n costs about 2 log2(n) Polars calls.
    """
    # Pretty-printed JSON may span lines; newlines outside strings are plain white space.
    lines = [value.replace(b"\r", b" ").replace(b"\n", b" ") for value in values]
    frames: list[pl.DataFrame] = []
    bad: list[tuple[int, str, str, RejectReason]] = []
    pending: list[tuple[list[int], bool]] = [(list(range(len(lines))), False)]  # (part, explained)
    while pending:
        part, explained = pending.pop()
        if whole_refused:
            frame: pl.DataFrame | str = "refused as a batch"
            whole_refused = False
        else:
            frame = _read_ndjson(b"\n".join(lines[p] for p in part), rows=len(part))
        if isinstance(frame, pl.DataFrame):
            frames.append(_with_index(frame, [indices[p] for p in part]))
        elif not explained and len(part) <= _SMALL_PART:
            part = _drop_explained(values, indices, part, bad)
            if part:
                pending.append((part, True))
        elif len(part) == 1:
            bad.append((indices[part[0]], RECORD, f"{NOT_JSON_RULE} ({frame})", _MALFORMED))
        else:
            middle = len(part) // 2
            pending += [(part[middle:], explained), (part[:middle], explained)]  # left first
    raw = pl.concat(frames) if frames else _empty_raw()
    return raw, _record_rejects(bad).sort("index")


def _drop_explained(
    values: list[bytes],
    indices: Sequence[int],
    part: list[int],
    bad: list[tuple[int, str, str, RejectReason]],
) -> list[int]:
    """``part`` without the records Python's parser finds a fault in (added to ``bad``)."""
    kept: list[int] = []
    for position in part:
        fault = _explain_json(values[position])
        if fault is None:
            kept.append(position)
        else:
            bad.append((indices[position], *fault))  # field, reason, code
    return kept


# --- Python's parser, to say why a record is refused ------------------------------------------


@dataclass(frozen=True)
class _BadNumber:
    reason: str


_MALFORMED = RejectReason.MALFORMED


def _explain_json(value: bytes) -> tuple[str, str, RejectReason] | None:
    """Why a record within the limits is not a JSON object Polars reads: (field, reason, code),
    or None.

    Hooks stand in for number conversion so that a 4,300-digit integer costs nothing (CPython
    would refuse to convert it) and NaN or an out-of-range number is named with its field.
    """
    utf8_fault = _utf8_fault(value)
    if utf8_fault is not None:
        return RECORD, utf8_fault, RejectReason.ENCODING
    text = value.decode()
    if not text.strip(" \t\r\n"):
        return RECORD, f"{NOT_JSON_RULE} (empty record)", _MALFORMED
    try:
        parsed = json.loads(
            text, parse_constant=_non_finite, parse_int=_checked_int, parse_float=_checked_float
        )
    except json.JSONDecodeError as error:
        return RECORD, f"{NOT_JSON_RULE} ({error.msg} at character {error.pos})", _MALFORMED
    except (ValueError, RecursionError) as error:
        return RECORD, f"{NOT_JSON_RULE} ({error.__class__.__name__})", _MALFORMED
    if not isinstance(parsed, dict):
        return RECORD, f"{NOT_OBJECT_RULE}, got {_json_type(parsed)}", _MALFORMED
    for key, item in parsed.items():
        fault = _number_fault(item)
        if fault is None:
            continue
        if key in _RAW_FIELDS:
            return key, fault.reason, _MALFORMED
        return RECORD, f"{fault.reason} (in field {_shortened(json.dumps(key))})", _MALFORMED
    return None


def _non_finite(name: str) -> _BadNumber:
    return _BadNumber(f"{NON_FINITE_RULE}, got {name}")


def _checked_int(text: str) -> int | _BadNumber:
    # Polars holds integers from -2**127 to 2**128 - 1; no more than 40 characters to convert.
    if len(text) > 40 or not -(2**127) <= int(text) <= 2**128 - 1:
        digits = len(text.lstrip("-"))
        return _BadNumber(f"{NUMBER_RANGE_RULE}, got an integer of {digits} digits")
    return 0


def _checked_float(text: str) -> float | _BadNumber:
    exponent = text.lower().partition("e")[2].lstrip("+-").lstrip("0")
    if len(exponent) > MAX_EXPONENT_DIGITS or math.isinf(float(text)):
        return _BadNumber(f"{NUMBER_RANGE_RULE}, got {_shortened(text)}")
    return 0.0


def _number_fault(item: object) -> _BadNumber | None:
    """A bad number anywhere in a parsed value, or None (its depth is bounded by the limits)."""
    pending = [item]
    while pending:
        node = pending.pop()
        if isinstance(node, _BadNumber):
            return node
        if isinstance(node, dict):
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return None


def _json_type(parsed: object) -> str:
    if parsed is None:
        return "null"
    if isinstance(parsed, bool):
        return "a boolean"
    if isinstance(parsed, list):
        return "an array"
    if isinstance(parsed, str):
        return "a string"
    return "a number"


def _shortened(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


# --- Rules of schema v1, vectorised -----------------------------------------------------------


def _rule_checks() -> list[tuple[str, pl.Expr, str]]:
    """(field, condition that is true when the rule is broken, reason) for every rule of v1."""
    event_id, carrier, hub_id = pl.col("event_id"), pl.col("carrier"), pl.col("hub_id")
    ts, kind, parcels = pl.col("ts"), pl.col("kind"), pl.col("parcels")
    return [
        ("event_id", event_id.is_null(), "required"),
        (
            "event_id",
            ~event_id.str.len_chars().is_between(1, MAX_EVENT_ID_CHARS),
            f"must be 1 to {MAX_EVENT_ID_CHARS} characters",
        ),
        ("carrier", carrier.is_null(), "required"),
        (
            "carrier",
            ~carrier.str.contains(CARRIER_PATTERN),
            "must be a carrier code of 1 to 16 upper-case letters, digits or _ (e.g. ZTO)",
        ),
        ("hub_id", hub_id.is_null(), "required"),
        (
            "hub_id",
            ~hub_id.str.len_chars().is_between(1, MAX_HUB_ID_CHARS),
            f"must be 1 to {MAX_HUB_ID_CHARS} characters",
        ),
        ("ts", ts.is_null(), "required"),
        (
            "ts",
            _parse_ts(ts).is_null(),
            "must be RFC 3339 with an offset (2026-11-11T00:00:00+08:00) or epoch milliseconds",
        ),
        ("kind", kind.is_null(), "required"),
        ("kind", ~kind.is_in(KINDS), "must be one of arrival, departure, backlog"),
        ("parcels", parcels.is_null(), "required"),
        (
            "parcels",
            ~parcels.str.contains(COUNT_PATTERN)
            | (parcels.cast(pl.Int64, strict=False) > MAX_PARCELS),
            f"must be an integer from 0 to {MAX_PARCELS}",
        ),
        (
            "from_hub",
            pl.col("from_hub").is_not_null() & (kind != "arrival"),
            "only allowed on arrival",
        ),
        (
            "to_hub",
            pl.col("to_hub").is_not_null() & (kind != "departure"),
            "only allowed on departure",
        ),
    ]


def _parse_ts(ts: pl.Expr) -> pl.Expr:
    """Epoch milliseconds or RFC 3339 with offset, as UTC milliseconds; null when neither."""
    epoch_ms = pl.when(ts.str.contains(EPOCH_MS_PATTERN)).then(ts.cast(pl.Int64, strict=False))
    rfc3339 = ts.str.to_datetime(RFC3339_FORMAT, strict=False, time_unit="ms", time_zone="UTC")
    return pl.coalesce(epoch_ms.cast(TS_DTYPE), rfc3339)


def _check_rules(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a raw frame into valid typed events and the first broken rule of each bad row."""
    checks = _rule_checks()
    reason = pl.lit(None, dtype=pl.String())
    field = pl.lit(None, dtype=pl.String())
    for name, broken, rule in reversed(checks):  # the first rule in the list wins
        reason = pl.when(broken.fill_null(False)).then(pl.lit(rule)).otherwise(reason)
        field = pl.when(broken.fill_null(False)).then(pl.lit(name)).otherwise(field)
    judged = raw.with_columns(field=field, reason=reason)
    rejects = judged.filter(pl.col("reason").is_not_null()).select(
        pl.col("index").cast(pl.UInt32),
        "field",
        "reason",
        pl.lit(RejectReason.SCHEMA.value, REASON_DTYPE).alias("code"),
    )
    events = judged.filter(pl.col("reason").is_null()).select(
        "index",
        "carrier",
        "event_id",
        "hub_id",
        _parse_ts(pl.col("ts")).alias("ts"),
        pl.col("kind").cast(KIND_DTYPE),
        pl.col("parcels").cast(pl.Int64),
        "from_hub",
        "to_hub",
    )
    return events, rejects


# --- HTTP: the same rules as a strict pydantic model ------------------------------------------

EventKind = Literal["arrival", "departure", "backlog"]


class HubEvent(BaseModel):
    """One hub throughput event, schema v1."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "event_id": "ZTO-HZ01-20261111-000001",
                    "carrier": "ZTO",
                    "hub_id": "ZTO-HZ01",
                    "ts": "2026-11-11T00:05:00+08:00",
                    "kind": "arrival",
                    "parcels": 1200,
                    "from_hub": "ZTO-SH02",
                }
            ]
        },
    )

    event_id: Annotated[str, Field(min_length=1, max_length=MAX_EVENT_ID_CHARS)]
    carrier: Annotated[str, Field(pattern=CARRIER_PATTERN, examples=["ZTO"])]
    hub_id: Annotated[str, Field(min_length=1, max_length=MAX_HUB_ID_CHARS)]
    ts: Annotated[
        datetime | int,
        Field(description="event time: RFC 3339 with offset, or integer epoch milliseconds"),
    ]
    kind: EventKind
    parcels: Annotated[int, Field(ge=0, le=MAX_PARCELS)]
    from_hub: Annotated[str | None, Field(max_length=MAX_HUB_ID_CHARS)] = None
    to_hub: Annotated[str | None, Field(max_length=MAX_HUB_ID_CHARS)] = None

    @field_validator("ts", mode="before")
    @classmethod
    def _ts_with_offset(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be RFC 3339 with an offset or epoch milliseconds, not a boolean")
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError as error:
                raise ValueError(
                    "must be RFC 3339 with an offset (2026-11-11T00:00:00+08:00) "
                    "or epoch milliseconds"
                ) from error
            if "T" not in value.upper() or parsed.tzinfo is None:
                raise ValueError("must be RFC 3339 with an offset, e.g. 2026-11-11T00:00:00+08:00")
            return parsed
        return value

    @model_validator(mode="after")
    def _hubs_match_kind(self) -> HubEvent:
        if self.from_hub is not None and self.kind != "arrival":
            raise ValueError("from_hub: only allowed on arrival")
        if self.to_hub is not None and self.kind != "departure":
            raise ValueError("to_hub: only allowed on departure")
        return self

    @property
    def ts_ms(self) -> int:
        """Event time as UTC epoch milliseconds."""
        if isinstance(self.ts, int):
            return self.ts
        return int(self.ts.astimezone(UTC).timestamp() * 1000)

    def to_record(self) -> bytes:
        """The canonical Kafka record value: compact JSON with ``ts`` in epoch milliseconds."""
        record: dict[str, object] = {
            "event_id": self.event_id,
            "carrier": self.carrier,
            "hub_id": self.hub_id,
            "ts": self.ts_ms,
            "kind": self.kind,
            "parcels": self.parcels,
        }
        if self.from_hub is not None:
            record["from_hub"] = self.from_hub
        if self.to_hub is not None:
            record["to_hub"] = self.to_hub
        return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()
