"""Schema v1: the Kafka batch decoder and the HTTP model apply the same rules."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from pydantic import ValidationError

from core.events import (
    EVENT_SCHEMA,
    MAX_NESTING_DEPTH,
    MAX_RECORD_BYTES,
    NUMBER_RANGE_RULE,
    REJECT_SCHEMA,
    TOO_DEEP_RULE,
    UTF8_BOM,
    HubEvent,
    decode_batch,
    nesting_depth,
)

GOOD: dict[str, Any] = {
    "event_id": "e1",
    "carrier": "ZTO",
    "hub_id": "ZTO-HZ01",
    "ts": "2026-11-11T00:00:00+08:00",
    "kind": "arrival",
    "parcels": 5,
    "from_hub": "ZTO-SH01",
}
T0 = datetime(2026, 11, 10, 16, 0, tzinfo=UTC)


def _record(**changes: Any) -> bytes:
    event = {**GOOD, **changes}
    return json.dumps({k: v for k, v in event.items() if v is not ...}).encode()


def test_a_clean_batch_decodes_to_the_fixed_schema() -> None:
    decoded = decode_batch(
        [
            _record(),
            _record(
                event_id="e2", ts=1_794_326_400_000, kind="departure", from_hub=..., to_hub="X"
            ),
            _record(event_id="e3", ts="2026-11-10T16:00:00.250Z", kind="backlog", from_hub=...),
        ]
    )
    expected = pl.DataFrame(
        {
            "index": [0, 1, 2],
            "carrier": ["ZTO"] * 3,
            "event_id": ["e1", "e2", "e3"],
            "hub_id": ["ZTO-HZ01"] * 3,
            "ts": [T0, T0, T0.replace(microsecond=250_000)],
            "kind": ["arrival", "departure", "backlog"],
            "parcels": [5, 5, 5],
            "from_hub": ["ZTO-SH01", None, None],
            "to_hub": [None, "X", None],
        },
        schema={"index": pl.UInt32(), **EVENT_SCHEMA},
    )
    assert_frame_equal(decoded.events, expected)
    assert_frame_equal(decoded.rejects, pl.DataFrame(schema=REJECT_SCHEMA))


@pytest.mark.parametrize(
    ("record", "field", "reason_part"),
    [
        (_record(event_id=...), "event_id", "required"),
        (_record(event_id=""), "event_id", "1 to 128"),
        (_record(event_id="x" * 129), "event_id", "1 to 128"),
        (_record(carrier="zto"), "carrier", "carrier code"),
        (_record(hub_id=...), "hub_id", "required"),
        (_record(ts="2026-11-11T00:00:00"), "ts", "offset"),
        (_record(ts="yesterday"), "ts", "RFC 3339"),
        (_record(kind="teleport"), "kind", "one of arrival"),
        (_record(parcels=-1), "parcels", "integer from 0"),
        (_record(parcels=2.5), "parcels", "integer from 0"),
        (_record(parcels=True), "parcels", "integer from 0"),
        (_record(parcels=...), "parcels", "required"),
        (_record(kind="departure"), "from_hub", "only allowed on arrival"),
        (_record(to_hub="X"), "to_hub", "only allowed on departure"),
        (b"{not json", "(record)", "not valid JSON"),
        (b"[1, 2]", "(record)", "must be a JSON object"),
        (b"\xff\xfe", "(record)", "must be UTF-8"),
    ],
)
def test_each_rule_names_its_field(record: bytes, field: str, reason_part: str) -> None:
    decoded = decode_batch([_record(event_id="ok"), record])
    assert decoded.events["event_id"].to_list() == ["ok"]  # the good record still flows
    assert decoded.rejects["index"].to_list() == [1]
    assert decoded.rejects["field"].to_list() == [field]
    assert reason_part in decoded.rejects["reason"][0]


def test_pretty_printed_records_and_empty_batches() -> None:
    pretty = json.dumps(GOOD, indent=2).encode()
    decoded = decode_batch([pretty, b"oops"])
    assert decoded.events["event_id"].to_list() == ["e1"]
    assert decode_batch([]).events.height == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"parcels": -1}, "greater than or equal to 0"),
        ({"parcels": "5"}, "valid integer"),
        ({"ts": "2026-11-11T00:00:00"}, "offset"),
        ({"ts": True}, "not a boolean"),
        ({"kind": "teleport"}, "'arrival', 'departure' or 'backlog'"),
        ({"extra": 1}, "Extra inputs are not permitted"),
        ({"kind": "departure"}, "from_hub: only allowed on arrival"),
    ],
)
def test_http_model_rejects_with_reason(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        HubEvent.model_validate({**GOOD, **changes})


def test_http_model_writes_the_canonical_record_that_decodes_the_same() -> None:
    event = HubEvent.model_validate(GOOD)
    assert event.ts_ms == 1_794_326_400_000
    decoded = decode_batch([event.to_record()])
    assert decoded.events.row(0, named=True)["ts"] == T0
    assert decoded.rejects.height == 0


# --- Hostile records: limits before any parser, and per-record isolation --------------------

NAN_RECORD = _record().replace(b'"parcels": 5', b'"parcels": NaN')
HUGE_NUMBER_RECORD = _record().replace(b'"parcels": 5', b'"parcels": 5, "extra": ' + b"9" * 4300)
DEEP_RECORD = _record().replace(b'"parcels": 5', b'"parcels": 5, "extra": ' + b"[" * 5000)
DEEP_RECORD += b"]" * 5000


def test_a_utf8_bom_is_stripped_and_the_record_accepted() -> None:
    decoded = decode_batch([_record(), UTF8_BOM + _record(event_id="e2")])
    assert decoded.events["event_id"].to_list() == ["e1", "e2"]
    assert decoded.rejects.height == 0


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        (NAN_RECORD, "parcels", "must be a JSON number, not NaN or Infinity, got NaN"),
        (
            _record().replace(b'"kind"', b'"x": [1, -Infinity], "kind"'),
            "(record)",
            'must be a JSON number, not NaN or Infinity, got -Infinity (in field "x")',
        ),
        (
            HUGE_NUMBER_RECORD,
            "(record)",
            f'{NUMBER_RANGE_RULE}, got an integer of 4300 digits (in field "extra")',
        ),
        (_record(ts=...).replace(b"}", b', "ts": 1e400}'), "ts", f"{NUMBER_RANGE_RULE}, got 1e400"),
    ],
)
def test_numbers_json_or_polars_cannot_hold_are_rejected_naming_the_field(
    record: bytes, field: str, reason: str
) -> None:
    decoded = decode_batch([_record(event_id="ok"), record])
    assert decoded.events["event_id"].to_list() == ["ok"]
    assert decoded.rejects.rows() == [(1, field, reason, "malformed")]


def test_deep_nesting_is_rejected_without_calling_polars(monkeypatch: pytest.MonkeyPatch) -> None:
    read = pl.read_ndjson
    documents: list[bytes] = []

    def spy(source: io.BytesIO, **options: Any) -> pl.DataFrame:
        documents.append(source.getvalue())
        return read(source, **options)

    monkeypatch.setattr(pl, "read_ndjson", spy)
    decoded = decode_batch([_record(), DEEP_RECORD])
    assert decoded.events["event_id"].to_list() == ["e1"]
    assert decoded.rejects.rows() == [(1, "(record)", f"{TOO_DEEP_RULE}, got 5001", "too_deep")]
    assert documents
    assert not any(b"[[[[" in document for document in documents)


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b'{"a": 1}', 1),
        (b'{"a": [[{"b": []}]]}', 5),
        (b'{"a": "[[[[{{{{"}', 1),  # brackets in strings do not count
        (b'{"a": "\\"[[[["}', 1),  # nor after an escaped quote
        (b'{"a": "[[[[', 1),  # an unterminated string runs to the end
        (b"]" + b"[" * 40, 40),  # not JSON: every opening bracket counts
        (b"", 0),
    ],
)
def test_nesting_depth_counts_brackets_outside_strings(text: bytes, depth: int) -> None:
    assert nesting_depth(text) == depth


def test_nesting_up_to_the_limit_is_accepted() -> None:
    nested = b"[" * (MAX_NESTING_DEPTH - 1) + b"]" * (MAX_NESTING_DEPTH - 1)
    deepest = _record().replace(b'"parcels": 5', b'"parcels": 5, "extra": ' + nested)
    too_deep = deepest.replace(b'"extra": [', b'"extra": [[').replace(b"]}", b"]]}")
    decoded = decode_batch([deepest, too_deep])
    assert decoded.events["index"].to_list() == [0]
    assert decoded.rejects.rows() == [(1, "(record)", f"{TOO_DEEP_RULE}, got 33", "too_deep")]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (b'{"event_id": "caf\xe9"}', "invalid continuation byte at byte 17"),
        (b'{"event_id": "\xc0\x80"}', "invalid start byte at byte 14"),  # overlong NUL
        (b'{"event_id": "\xed\xa0\x80"}', "invalid continuation byte at byte 14"),  # surrogate
        (b'{"event_id": "\xe4\xb8"}', "invalid continuation byte at byte 14"),  # cut short
        ("{}".encode("utf-16"), "got UTF-16 (its byte-order mark)"),
    ],
)
def test_invalid_utf8_is_rejected_naming_the_rule(record: bytes, reason: str) -> None:
    decoded = decode_batch([_record(event_id="ok"), record])
    assert decoded.events["event_id"].to_list() == ["ok"]
    assert decoded.rejects["field"].to_list() == ["(record)"]
    assert decoded.rejects["reason"][0].startswith("must be UTF-8")
    assert reason in decoded.rejects["reason"][0]


def test_a_record_over_the_size_limit_is_rejected_before_parsing() -> None:
    padding = MAX_RECORD_BYTES - len(_record()) - len(', "note": ""')
    largest = _record(note="x" * padding)
    assert len(largest) == MAX_RECORD_BYTES
    decoded = decode_batch([largest, _record(note="x" * (padding + 1))])
    assert decoded.events["index"].to_list() == [0]
    reason = f"must be at most {MAX_RECORD_BYTES} bytes, got {MAX_RECORD_BYTES + 1}"
    assert decoded.rejects.rows() == [(1, "(record)", reason, "too_large")]


@pytest.mark.parametrize(
    ("poison", "reason_start"),
    [
        (DEEP_RECORD, TOO_DEEP_RULE),
        (NAN_RECORD, "must be a JSON number, not NaN"),
        (HUGE_NUMBER_RECORD, NUMBER_RANGE_RULE),
        (b"\xff" + _record(), "must be UTF-8"),
        (_record(note="x" * MAX_RECORD_BYTES), "must be at most"),
        (b"", "not valid JSON (empty record)"),
        (_record() + b" {}", "not valid JSON (Extra data"),
        # Python reads this exponent as 0.0; only Polars refuses it, and it is still isolated.
        (
            _record().replace(b'"parcels": 5', b'"parcels": 5, "x": 1e-50000000000'),
            "not valid JSON",
        ),
    ],
)
def test_a_bad_record_between_good_ones_only_rejects_itself(
    poison: bytes, reason_start: str
) -> None:
    good = [_record(event_id=f"e{i}") for i in range(4)]
    decoded = decode_batch([good[0], good[1], poison, good[2], good[3]])
    assert decoded.events["index"].to_list() == [0, 1, 3, 4]
    assert decoded.events["event_id"].to_list() == ["e0", "e1", "e2", "e3"]
    assert decoded.rejects["index"].to_list() == [2]
    assert decoded.rejects["reason"][0].startswith(reason_start)


def test_one_bad_record_in_a_large_batch_costs_a_few_polars_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read = pl.read_ndjson
    calls: list[int] = []

    def counting(source: io.BytesIO, **options: Any) -> pl.DataFrame:
        calls.append(1)
        return read(source, **options)

    monkeypatch.setattr(pl, "read_ndjson", counting)
    values = [_record(event_id=f"e{i}") for i in range(5_000)]
    values[3_210] = NAN_RECORD
    decoded = decode_batch(values)
    assert decoded.events.height == 4_999
    assert decoded.rejects["index"].to_list() == [3_210]
    assert len(calls) <= 16  # halving, not one call per record
