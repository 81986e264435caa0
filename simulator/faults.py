"""Data faults for the ``data_faults`` scenario: what a real sender gets wrong.

    FaultInjector(seed)   .apply(minute, events) -> (events to send now, malformed records)
                          .flush() -> events still held back; .summary() -> ground truth

Per event, at most one fault, at these rates:

    late        1 %    held back 6-30 minutes, then sent with its original event time
    duplicate   1 %    sent again 0-5 minutes later, byte for byte (same event_id)
    future      0.1 %  a copy stamped 2-48 h ahead (clock skew), event_id suffixed ``-skew``
    malformed   0.2 %  a broken copy that schema v1 rejects (reason in ``MALFORMED_REASONS``)

Late events and duplicates carry real parcels once (the duplicate is the same event); future
and malformed copies are extra records, so the flows of the run are unchanged.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from simulator.profile import BEIJING_TZ
from simulator.records import empty_events, encode_records

LATE_RATIO, DUPLICATE_RATIO, FUTURE_RATIO, MALFORMED_RATIO = 0.01, 0.01, 0.001, 0.002
LATE_DELAY_MIN = (6, 30)
DUPLICATE_DELAY_MIN = (0, 5)
FUTURE_SKEW_MIN = (120, 48 * 60)
MALFORMED_REASONS = (
    "truncated JSON",
    "JSON array instead of an object",
    "negative parcels",
    "unknown kind",
    "ts without a UTC offset",
    "hub_id missing",
    "to_hub on an arrival or from_hub on a departure",
)


@dataclass(frozen=True)
class MalformedRecord:
    """A record that breaks schema v1: the Kafka key it claims, its bytes, and why it is bad."""

    key: bytes
    value: bytes
    reason: str

    @property
    def is_json_object(self) -> bool:
        """Whether the bytes parse as a JSON object (it can then travel in an HTTP JSON batch)."""
        return self.reason not in MALFORMED_REASONS[:2]


class FaultInjector:
    """Adds late, duplicate, future-stamped and malformed records to a clean event stream."""

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng([seed, 3])
        self._held: dict[int, list[pl.DataFrame]] = {}
        self._ids: dict[str, list[str]] = {"late": [], "duplicate": [], "future": []}
        self._reasons: dict[str, int] = dict.fromkeys(MALFORMED_REASONS, 0)

    def apply(
        self, minute: int, events: pl.DataFrame
    ) -> tuple[pl.DataFrame, list[MalformedRecord]]:
        """Events to send at ``minute`` (faults applied) and the malformed records to add."""
        draw = self._rng.random(events.height)
        edges = np.cumsum([0.0, LATE_RATIO, DUPLICATE_RATIO, FUTURE_RATIO, MALFORMED_RATIO])
        late, duplicate, future, malformed = (
            (draw >= low) & (draw < high) for low, high in itertools.pairwise(edges)
        )
        self._hold(minute, events.filter(late), LATE_DELAY_MIN, "late")
        self._hold(minute, events.filter(duplicate), DUPLICATE_DELAY_MIN, "duplicate")
        skewed = self._skew(events.filter(future))
        now = [events.filter(~late), *self._held.pop(minute, []), skewed]
        return pl.concat(now), self._break(events.filter(malformed))

    def flush(self) -> pl.DataFrame:
        """Every event still held back (sent when the run ends)."""
        held = [frame for minute in sorted(self._held) for frame in self._held[minute]]
        self._held.clear()
        return pl.concat(held) if held else empty_events()

    def summary(self) -> dict[str, Any]:
        """Ground truth: how many of each fault, and the event ids involved."""
        return {
            "late": {
                "count": len(self._ids["late"]),
                "delay_min": list(LATE_DELAY_MIN),
                "event_ids": self._ids["late"],
            },
            "duplicate": {
                "count": len(self._ids["duplicate"]),
                "event_ids": self._ids["duplicate"],
            },
            "future": {
                "count": len(self._ids["future"]),
                "skew_min": list(FUTURE_SKEW_MIN),
                "event_ids": self._ids["future"],
            },
            "malformed": {"count": sum(self._reasons.values()), "by_reason": self._reasons},
        }

    def _hold(self, minute: int, rows: pl.DataFrame, delay: tuple[int, int], fault: str) -> None:
        if rows.is_empty():
            return
        self._ids[fault].extend(rows["event_id"].to_list())
        delays = self._rng.integers(delay[0], delay[1] + 1, rows.height)
        for value in np.unique(delays).tolist():
            self._held.setdefault(minute + value, []).append(rows.filter(delays == value))

    def _skew(self, rows: pl.DataFrame) -> pl.DataFrame:
        skew_min = self._rng.integers(FUTURE_SKEW_MIN[0], FUTURE_SKEW_MIN[1] + 1, rows.height)
        skewed = rows.with_columns(
            event_id=pl.col("event_id") + "-skew",
            ts=pl.col("ts") + pl.Series(skew_min * 60_000, dtype=pl.Int64).cast(pl.Duration("ms")),
        )
        self._ids["future"].extend(skewed["event_id"].to_list())
        return skewed

    def _break(self, rows: pl.DataFrame) -> list[MalformedRecord]:
        broken: list[MalformedRecord] = []
        choices = self._rng.integers(0, len(MALFORMED_REASONS), rows.height).tolist()
        for record, hub_id, choice in zip(
            encode_records(rows), rows["hub_id"].to_list(), choices, strict=True
        ):
            reason = MALFORMED_REASONS[choice]
            self._reasons[reason] += 1
            broken.append(MalformedRecord(hub_id.encode(), _broken(record, reason), reason))
        return broken


def _broken(record: bytes, reason: str) -> bytes:
    """A copy of ``record`` that breaks the named rule."""
    if reason == "truncated JSON":
        return record[: len(record) // 2]
    event: dict[str, Any] = json.loads(record)
    event["event_id"] += "-bad"
    if reason == "JSON array instead of an object":
        return json.dumps([event], separators=(",", ":")).encode()
    if reason == "negative parcels":
        event["parcels"] = -1 - int(event["parcels"])
    elif reason == "unknown kind":
        event["kind"] = "pickup"
    elif reason == "ts without a UTC offset":
        local = datetime.fromtimestamp(int(event["ts"]) / 1000, tz=BEIJING_TZ)
        event["ts"] = local.replace(tzinfo=None).isoformat()
    elif reason == "hub_id missing":
        del event["hub_id"]
    elif event["kind"] == "departure":
        event["from_hub"] = event["hub_id"]
    else:
        event["to_hub"] = event["hub_id"]
    return json.dumps(event, separators=(",", ":")).encode()
