"""The daily report's arithmetic: hourly rows from steps and buckets, their merge, and a day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

from core.levels import LEVEL_DTYPE
from core.reports import HOUR_SCHEMA, day_bounds, day_change, day_report, hour_rows, merge_hours

TS = pl.Datetime("ms", "UTC")


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _states(rows: list[tuple[str, str, int, str, float | None]]) -> pl.DataFrame:
    """(hub_id, step at, backlog, level, silent_for_s) as hub states of one carrier."""
    return pl.DataFrame(
        {
            "hub_id": [r[0] for r in rows],
            "carrier": ["ZTO" for _ in rows],
            "province": ["浙江" for _ in rows],
            "storage_capacity": [1000 for _ in rows],
            "backlog": [r[2] for r in rows],
            "silent_for_s": [r[4] for r in rows],
            "level": pl.Series([r[3] for r in rows], dtype=LEVEL_DTYPE),
            "at": pl.Series([_utc(r[1]) for r in rows], dtype=TS),
        }
    )


def _minutes(rows: list[tuple[str, str, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "hub_id": [r[0] for r in rows],
            "minute": [int(_utc(r[1]).timestamp()) // 60 for r in rows],
            "arrivals": [r[2] for r in rows],
            "departures": [r[3] for r in rows],
        }
    )


def _hours(rows: list[dict[str, Any]]) -> pl.DataFrame:
    base = {"carrier": "ZTO", "province": "浙江", "storage_capacity": 1000}
    return pl.DataFrame([{**base, **row} for row in rows], schema=HOUR_SCHEMA)


def test_the_step_at_the_hour_closes_it_and_buckets_count_by_their_minute() -> None:
    states = _states(
        [
            ("A", "2026-11-11T10:30:00+08:00", 50, "none", 0.0),
            ("A", "2026-11-11T11:00:00+08:00", 80, "blue", 0.0),  # the end of 10:00–11:00
            ("A", "2026-11-11T11:01:00+08:00", 70, "none", 60.0),
        ]
    )
    minutes = _minutes(
        [
            ("A", "2026-11-11T10:59:00+08:00", 30, 5),
            ("A", "2026-11-11T10:10:00+08:00", 20, 5),
            ("A", "2026-11-11T11:00:00+08:00", 7, 1),
        ]
    )
    expected = _hours(
        [
            {
                "hour_start": _utc("2026-11-11T10:00:00+08:00"),
                "hub_id": "A",
                "arrivals": 50,
                "departures": 10,
                "backlog_end": 80,
                "backlog_end_at": _utc("2026-11-11T11:00:00+08:00"),
                "backlog_max": 80,
                "level_rank": 1,
                "silent_max_s": 0.0,
            },
            {
                "hour_start": _utc("2026-11-11T11:00:00+08:00"),
                "hub_id": "A",
                "arrivals": 7,
                "departures": 1,
                "backlog_end": 70,
                "backlog_end_at": _utc("2026-11-11T11:01:00+08:00"),
                "backlog_max": 70,
                "level_rank": 0,
                "silent_max_s": 60.0,
            },
        ]
    )
    assert_frame_equal(hour_rows(states, minutes), expected)


def test_merging_keeps_the_largest_counts_and_the_latest_backlog() -> None:
    hour = _utc("2026-11-11T10:00:00+08:00")
    early = {
        "hour_start": hour,
        "hub_id": "A",
        "arrivals": 40,
        "departures": 9,
        "backlog_end": 90,
        "backlog_end_at": _utc("2026-11-11T10:40:00+08:00"),
        "backlog_max": 95,
        "level_rank": 3,
        "silent_max_s": 0.0,
    }
    late = {
        **early,
        "arrivals": 50,
        "backlog_end": 60,
        "backlog_end_at": _utc("2026-11-11T11:00:00+08:00"),
        "backlog_max": 90,
        "level_rank": 1,
    }
    recount = {**early, "arrivals": 45, "backlog_end": None, "backlog_end_at": None}
    recount.update(backlog_max=None, level_rank=None, silent_max_s=None)
    merged = merge_hours(_hours([late, early, recount]))
    expected = _hours([{**late, "backlog_max": 95, "level_rank": 3}])
    assert_frame_equal(merged, expected)
    assert_frame_equal(merge_hours(pl.concat([merged, merged])), expected)  # idempotent


def test_the_day_runs_from_midnight_to_midnight_beijing_time() -> None:
    start, end = day_bounds(date(2026, 11, 11))
    assert start == _utc("2026-11-10T16:00:00+00:00")
    assert end == _utc("2026-11-11T16:00:00+00:00")

    def row(hour: str, hub: str, arrivals: int, backlog: int, level: int) -> dict[str, Any]:
        return {
            "hour_start": _utc(hour),
            "hub_id": hub,
            "arrivals": arrivals,
            "departures": arrivals // 2,
            "backlog_end": backlog,
            "backlog_end_at": _utc(hour),
            "backlog_max": backlog + 10,
            "level_rank": level,
            "silent_max_s": 0.0 if hub == "A" else 1800.0,
        }

    rows = _hours(
        [
            row("2026-11-10T23:00:00+08:00", "A", 999, 5, 4),  # the day before: left out
            row("2026-11-11T00:00:00+08:00", "A", 100, 50, 1),
            row("2026-11-11T09:00:00+08:00", "A", 300, 200, 3),
            row("2026-11-11T09:00:00+08:00", "B", 100, 100, 0),
            row("2026-11-11T23:00:00+08:00", "A", 10, 20, 0),
            row("2026-11-12T00:00:00+08:00", "B", 999, 5, 4),  # the day after: left out
        ]
    )
    report = day_report(rows, day=date(2026, 11, 11), silent_after_s=600)
    assert (report.arrivals_total, report.departures_total) == (510, 255)
    assert report.backlog_at_end == 20 + 100  # A at 24:00, B as last seen
    assert report.backlog_max == 300  # the 09:00–10:00 hour's end, A and B together
    assert report.peak_hour == "09:00"
    assert report.hourly.height == 24
    assert report.hourly.row(0) == ("00:00", 100, 50, 50)
    assert report.hourly.row(9) == ("09:00", 400, 200, 300)
    assert report.levels_worst == {
        "unknown": 0, "none": 1, "blue": 0, "yellow": 0, "orange": 1, "red": 0,
    }  # fmt: skip
    assert report.hubs.select("hub_id", "arrivals", "backlog_max", "level").rows() == [
        ("A", 410, 210, "orange"),
        ("B", 100, 110, "none"),
    ]
    assert report.closest["hub_id"].to_list() == ["A", "B"]
    assert report.silent.rows() == [("B", 1800.0)]


def test_a_day_without_rows_has_no_peak_and_no_change_to_report() -> None:
    empty = day_report(pl.DataFrame(schema=HOUR_SCHEMA), day=date(2026, 11, 11), silent_after_s=1)
    assert empty.peak_hour is None
    assert (empty.arrivals_total, empty.backlog_max) == (0, 0)
    assert empty.hourly["arrivals"].sum() == 0
    assert day_change(empty, empty) is None
