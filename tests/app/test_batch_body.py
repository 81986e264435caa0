"""Reading a batch body within limits: count before parsing, depth before parsing, blank lines free.

Pure functions, no server. The route-level answers (status codes, problem bodies) are in
test_ingest_hygiene.py.
"""

from __future__ import annotations

import json
import time

import pytest

from app.api.batch_body import (
    MAX_JSON_DEPTH,
    BodyError,
    nesting_exceeds,
    read_json,
    read_ndjson,
)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize(
    ("data", "limit", "too_deep"),
    [
        (b'{"events": [{"a": 1}]}', 3, False),
        (b'{"events": [{"a": 1}]}', 2, True),
        (nested(32), 32, False),
        (nested(33), 32, True),
        (b"[[]" * 40 + b"]" * 40, 32, True),  # no run of 33 openings, still 41 deep
        (b"[[]" * 31 + b"]" * 31, 32, False),  # 32 deep
        (b"[]" * 1000, 1, False),  # wide is not deep
        (b'["' + b"[" * 100 + b'"]', 2, False),  # brackets inside a string are text
        (b'["\\"' + b"[" * 100 + b'"]', 2, False),  # ... even after an escaped quote
        (b"[" * 40, 32, True),  # cut short: unclosed brackets count
        (b"[{" * 20 + b"}]" * 20, 39, True),
        (b"[{" * 20 + b"}]" * 20, 40, False),
    ],
)
def test_nesting_is_measured_without_parsing(data: bytes, limit: int, too_deep: bool) -> None:
    assert nesting_exceeds(data, limit) is too_deep


@pytest.mark.parametrize(
    "body",
    [
        b'"\\"' * 3_000_000,  # quotes and escapes that would make a naive regex quadratic
        b"[" * 8_000_000 + b"]" * 8_000_000,
        b"[[]" * 5_000_000,
        b'"' + b"\\" * 16_000_000,
    ],
    ids=["escaped-quotes", "deep", "comb", "backslashes"],
)
def test_the_depth_scan_stays_linear_on_hostile_bodies(body: bytes) -> None:
    started = time.monotonic()
    nesting_exceeds(body, MAX_JSON_DEPTH)
    assert time.monotonic() - started < 10  # linear: well under a second unloaded


def test_blank_lines_cost_nothing_and_lines_keep_their_numbers() -> None:
    body = b'\n\n{"a": 1}\r\n   \n[1, 2\n' + nested(40) + b"\n\n"
    batch = read_ndjson(body, max_events=10)
    assert batch.items == [(2, {"a": 1})]
    assert [index for index, _ in batch.broken] == [4, 5]
    assert batch.broken[0][1].startswith("not valid JSON")
    assert "at most 32 levels deep" in batch.broken[1][1]
    assert batch.size == 3


def test_a_body_of_newlines_has_no_items() -> None:
    batch = read_ndjson(b"\n" * (4 * 1024 * 1024), max_events=10_000)
    assert batch.size == 0


def test_lines_are_counted_before_any_is_parsed() -> None:
    started = time.monotonic()
    with pytest.raises(BodyError) as refused:
        read_ndjson(b"not json\n" * 1_000_000, max_events=10)
    assert time.monotonic() - started < 5  # stops counting at the 11th line
    assert refused.value.status == 413
    assert "more than 10 events" in refused.value.detail
    assert "max_batch_events" in refused.value.detail


def test_an_integer_of_thousands_of_digits_is_one_bad_line() -> None:
    batch = read_ndjson(b'{"parcels": ' + b"9" * 5000 + b"}\n{}", max_events=10)
    assert batch.items == [(1, {})]
    assert batch.broken[0][0] == 0
    assert "not valid JSON" in batch.broken[0][1]


def test_json_items_are_read_one_at_a_time_up_to_the_limit() -> None:
    body = json.dumps({"events": [{"n": i} for i in range(5)]}).encode()
    assert read_json(body, max_events=5).items == [(i, {"n": i}) for i in range(5)]
    with pytest.raises(BodyError) as refused:
        read_json(b'{"events": [' + b"0," * 5_000_000 + b"0]}", max_events=5)
    assert refused.value.status == 413
    assert "more than 5 events" in refused.value.detail


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b'{"events": [' + nested(5000) + b"]}", 400, "at most 32 levels deep"),
        (b'{"items": []}', 400, '{"events": [...]}'),
        (b'{"events": [], "more": 1}', 400, "no other key"),
        (b'{"events": [1,]}', 400, "not valid JSON"),
        (b'{"events": [{"event_id": "x", "carr', 400, "not valid JSON"),
        (b'{"events": [' + b"1" * 5000 + b"]}", 400, "not valid JSON"),
        (b'{"events": ["\xff"]}', 400, "not UTF-8"),
    ],
)
def test_a_bad_json_body_is_refused_as_a_whole(body: bytes, status: int, words: str) -> None:
    with pytest.raises(BodyError) as refused:
        read_json(body, max_events=10)
    assert refused.value.status == status
    assert words in refused.value.detail


def test_a_json_body_may_start_with_a_byte_order_mark() -> None:
    assert read_json(b'\xef\xbb\xbf {"events" : [ 1 , 2 ] } ', max_events=2).items == [
        (0, 1),
        (1, 2),
    ]
