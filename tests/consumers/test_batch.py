"""One batch through the core: poison records become dead letters with a reason, never an error."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest

import consumers.batch
from consumers.batch import REASON_CODES, RawBatch, process_batch
from core.engine import Engine
from core.events import MAX_RECORD_BYTES, UTF8_BOM, DecodedBatch, decode_batch
from tests.core.factories import T0, hub, ms, registry

REGISTRY = registry(hub("ZTO-HZ01"), hub("YTO-SH01", carrier="YTO"))
NOW = T0 + timedelta(minutes=5)


def _record(event_id: str, **changes: Any) -> bytes:
    event = {
        "event_id": event_id,
        "carrier": "ZTO",
        "hub_id": "ZTO-HZ01",
        "ts": ms(1),
        "kind": "arrival",
        "parcels": 10,
        **changes,
    }
    return json.dumps(event).encode()


def _raw(values: list[bytes]) -> RawBatch:
    return RawBatch(
        values=values,
        partitions=[3] * len(values),
        offsets=[100 + i for i in range(len(values))],
        timestamps_ms=[ms(1)] * len(values),
    )


POISON = {
    "too_deep": _record("deep", extra=[]).replace(b"[]", b"[" * 5_000 + b"]" * 5_000),
    "malformed": _record("nan").replace(b'"parcels": 10', b'"parcels": NaN'),
    "too_large": _record("big", note="x" * MAX_RECORD_BYTES),
    "encoding": b'{"event_id": "\xff"}',
    "unknown_hub": _record("stranger", hub_id="ZTO-NOWHERE"),
    "schema": _record("negative", parcels=-1),
    "foreign_lane": _record("to-a-rival", kind="departure", to_hub="YTO-SH01"),
}


def test_poison_records_are_dead_lettered_with_reason_codes_and_the_rest_applied() -> None:
    values = [_record("a"), *POISON.values(), UTF8_BOM + _record("bom"), _record("b")]
    outcome = process_batch(Engine(REGISTRY), REGISTRY, _raw(values), now=NOW)
    assert outcome.applied == 3  # a, bom, b
    letters = {letter.offset: letter for letter in outcome.dead_letters}
    assert sorted((offset, letter.reason_code) for offset, letter in letters.items()) == [
        (101 + i, code) for i, code in enumerate(POISON)
    ]
    for offset, letter in letters.items():
        assert letter.partition == 3
        assert letter.value == values[offset - 100]  # the original bytes, for replay
        assert letter.reason
    assert letters[101].reason.startswith("must nest objects and arrays at most 32 levels")
    assert letters[102].field == "parcels"


def test_a_batch_of_poison_only_raises_nothing() -> None:
    outcome = process_batch(Engine(REGISTRY), REGISTRY, _raw(list(POISON.values())), now=NOW)
    assert outcome.applied == 0
    assert outcome.dead_lettered == len(POISON)


def test_a_decoder_failure_costs_only_the_record_that_causes_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    trigger = _record("trigger")

    def failing(values: list[bytes]) -> DecodedBatch:
        if trigger in values:  # stands in for a decoder bug that one record sets off
            raise RuntimeError("decoder bug")
        return decode_batch(values)

    monkeypatch.setattr(consumers.batch, "decode_batch", failing)
    values = [_record("a"), trigger, _record("b")]
    with caplog.at_level(logging.ERROR, logger="consumers.batch"):
        outcome = process_batch(Engine(REGISTRY), REGISTRY, _raw(values), now=NOW)
    assert outcome.applied == 2
    [letter] = outcome.dead_letters
    assert (letter.offset, letter.reason_code, letter.field) == (101, "decode_error", "(record)")
    assert letter.reason.endswith("RuntimeError")
    assert "partition 3 offset 101 could not be decoded" in caplog.text


def test_each_batch_with_dead_letters_logs_one_line_by_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    values = [_record("a"), POISON["too_deep"], POISON["encoding"]]
    with caplog.at_level(logging.WARNING, logger="consumers.batch"):
        process_batch(Engine(REGISTRY), REGISTRY, _raw(values), now=NOW)
    [line] = caplog.messages
    assert line.startswith("dead-lettered 2 of 3 records (encoding 1, too_deep 1); first: ")
    assert "partition 3 offset 101" in line


def test_every_code_is_listed() -> None:
    others = {"future_ts", "decode_error", "carrier_mismatch", "processing_error"}
    assert set(POISON) | others == set(REASON_CODES)


def test_a_departure_to_a_competitors_hub_moves_nothing_and_is_dead_lettered() -> None:
    engine = Engine(REGISTRY)
    flood = _record("flood", kind="departure", parcels=100_000_000, to_hub="YTO-SH01")
    outcome = process_batch(engine, REGISTRY, _raw([flood, _record("a")]), now=NOW)
    [letter] = outcome.dead_letters
    assert (letter.reason_code, letter.field) == ("foreign_lane", "to_hub")
    assert letter.reason == "must be a registered hub of the same carrier (ZTO)"
    engine.run_due_steps(feed_stopped_for_ms=0)
    rival = engine.hub_states().filter(hub_id="YTO-SH01").row(0, named=True)
    assert rival["in_transit_parcels"] == 0


def test_every_reason_code_is_counted_from_zero() -> None:
    from prometheus_client import CollectorRegistry

    from consumers.metrics import PipelineMetrics

    metrics = CollectorRegistry()
    PipelineMetrics(metrics)
    for code in REASON_CODES:
        assert metrics.get_sample_value("peakwatch_dlq_records_total", {"reason": code}) == 0
