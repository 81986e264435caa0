"""Schema v1: the Kafka batch decoder and the HTTP model apply the same rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from pydantic import ValidationError

from core.events import EVENT_SCHEMA, REJECT_SCHEMA, HubEvent, decode_batch

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
        (b"\xff\xfe", "(record)", "not valid JSON"),
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
