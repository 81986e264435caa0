"""Event schema v1: the pydantic model for HTTP and the fixed Polars frame for Kafka batches.

Both paths apply the same rules (see docs/events.md). A rejection always names the field and the
rule, so a sender can act on it.

    decode_batch(values)  Kafka record values (bytes) -> DecodedBatch(events, rejects)
    HubEvent              one event over HTTP (pydantic, strict)
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
}
"""Columns of a reject frame: position in the batch, the field at fault, and the rule broken."""

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
    """Decode Kafka record values in one Polars call and check every rule of schema v1.

    Each input row keeps its position as ``index`` so that rejects (and the DLQ) can point back at
    the original record. Only a batch holding malformed JSON takes a slower path that isolates the
    bad records; clean batches are parsed as one newline-delimited document.
    """
    raw, malformed = _read_raw(values)
    events, rejects = _check_rules(raw)
    if malformed.height:
        rejects = pl.concat([malformed, rejects]).sort("index")
    return DecodedBatch(events=events, rejects=rejects)


def _read_raw(values: list[bytes]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse JSON objects to a frame of strings; return it with the rejects of malformed ones."""
    if not values:
        return pl.DataFrame(schema={**_RAW_SCHEMA, "index": pl.UInt32()}), empty_rejects()
    document = b"\n".join(values)
    if document.count(b"\n") == len(values) - 1 and b"\r" not in document:
        try:
            frame = pl.read_ndjson(io.BytesIO(document), schema=_RAW_SCHEMA)
        except (pl.exceptions.ComputeError, pl.exceptions.SchemaError):
            pass  # at least one record is not a JSON object: isolate it below
        else:
            if frame.height == len(values):
                return frame.with_row_index("index"), empty_rejects()
    return _read_raw_isolating(values)


def _read_raw_isolating(values: list[bytes]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Slow path for a batch with poison: find the records that are not JSON objects."""
    good: list[int] = []
    bad_index: list[int] = []
    bad_reason: list[str] = []
    for index, value in enumerate(values):
        try:
            parsed = json.loads(value)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            bad_index.append(index)
            bad_reason.append(f"not valid JSON ({error.__class__.__name__}: {error})")
            continue
        if not isinstance(parsed, dict):
            bad_index.append(index)
            bad_reason.append(f"must be a JSON object, got {type(parsed).__name__}")
            continue
        good.append(index)
    malformed = pl.DataFrame(
        {"index": bad_index, "field": ["(record)"] * len(bad_index), "reason": bad_reason},
        schema=REJECT_SCHEMA,
    )
    if not good:
        return pl.DataFrame(schema={**_RAW_SCHEMA, "index": pl.UInt32()}), malformed
    # Pretty-printed JSON may span lines; newlines outside strings are plain white space.
    document = b"\n".join(values[i].replace(b"\r", b" ").replace(b"\n", b" ") for i in good)
    frame = pl.read_ndjson(io.BytesIO(document), schema=_RAW_SCHEMA)
    frame = frame.with_columns(index=pl.Series(good, dtype=pl.UInt32())).select(
        "index", *_RAW_FIELDS
    )
    return frame, malformed


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
        pl.col("index").cast(pl.UInt32), "field", "reason"
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
