"""The daily report's store on SQLite and PostgreSQL: hourly rows folded idempotently, read back
by day, province and carrier; the alerts of a day with the worst level they reached."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

from alerts.model import AlertChange
from alerts.store.reports import alerts_between, hours_between, upsert_hours
from alerts.store.repository import record_changes, write_alerts
from core.reports import HOUR_SCHEMA, merge_hours
from storage.db import Database
from tests.alerts.factories import T0, WALL0, alert

HOUR = timedelta(hours=1)
H0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)  # 10:00 Beijing time


def _row(hub_id: str, hour: datetime, **values: Any) -> dict[str, Any]:
    carrier = hub_id.split("-")[0]
    base = {
        "hour_start": hour,
        "hub_id": hub_id,
        "carrier": carrier,
        "province": "浙江" if hub_id.endswith("HZ") else "江苏",
        "storage_capacity": 1000,
        "arrivals": 100,
        "departures": 60,
        "backlog_end": 40,
        "backlog_end_at": hour + HOUR,
        "backlog_max": 50,
        "level_rank": 1,
        "silent_max_s": 0.0,
    }
    return {**base, **values}


def _frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=HOUR_SCHEMA)


async def _upsert(store: Database, rows: pl.DataFrame) -> None:
    async with store.sessionmaker.begin() as session:
        await upsert_hours(session, rows)


async def _read(store: Database, **narrow: Any) -> pl.DataFrame:
    async with store.sessionmaker() as session:
        return await hours_between(session, H0 - HOUR, H0 + 3 * HOUR, **narrow)


async def test_the_same_rows_written_again_change_nothing(store: Database) -> None:
    rows = _frame(_row("ZTO-HZ", H0), _row("YTO-NJ", H0), _row("ZTO-HZ", H0 + HOUR))
    await _upsert(store, rows)
    first = await _read(store)
    await _upsert(store, rows)  # a replay
    await _upsert(store, rows.reverse())  # a second replica of the same hubs, any order
    assert_frame_equal(await _read(store), first)
    assert_frame_equal(first, rows.sort("hour_start", "hub_id"))


async def test_a_later_write_folds_like_the_core_merge(store: Database) -> None:
    early = _row("ZTO-HZ", H0, arrivals=40, backlog_end=90, backlog_end_at=H0 + HOUR / 2)
    early |= {"backlog_max": 95, "level_rank": 3}
    late = _row("ZTO-HZ", H0, arrivals=55, backlog_end=30, backlog_max=60, level_rank=0)
    recount = _row("ZTO-HZ", H0, arrivals=50, backlog_end=None, backlog_end_at=None)
    recount |= {"backlog_max": None, "level_rank": None, "silent_max_s": None}
    for row in (early, late, recount):
        await _upsert(store, _frame(row))
    expected = merge_hours(_frame(early, late, recount))
    assert_frame_equal(await _read(store), expected)
    assert (await _read(store)).row(0, named=True) == {
        **late,
        "backlog_max": 95,
        "level_rank": 3,
    }
    await _upsert(store, _frame(early))  # an older step never takes the backlog back
    assert_frame_equal(await _read(store), expected)


async def test_rows_read_by_day_province_and_carrier(store: Database) -> None:
    await _upsert(
        store,
        _frame(
            _row("ZTO-HZ", H0),
            _row("YTO-NJ", H0),
            _row("YTO-HZ", H0 + HOUR),
            _row("ZTO-HZ", H0 + 5 * HOUR),  # outside the range read
        ),
    )
    assert (await _read(store))["hub_id"].to_list() == ["YTO-NJ", "ZTO-HZ", "YTO-HZ"]
    assert (await _read(store, carrier="YTO"))["hub_id"].to_list() == ["YTO-NJ", "YTO-HZ"]
    assert (await _read(store, province="浙江"))["hub_id"].to_list() == ["ZTO-HZ", "YTO-HZ"]
    assert (await _read(store, province="浙江", carrier="ZTO"))["hub_id"].to_list() == ["ZTO-HZ"]


async def test_the_alerts_of_a_day_with_their_worst_level(store: Database) -> None:
    rose = alert("ZTO-HZ01", level="orange")
    yesterday = alert("ZTO-NB02", started_at=T0 - 30 * HOUR, resolved_at=T0 - 26 * HOUR)
    yesterday = replace(yesterday, state="resolved")
    network = alert("CN", rule="network_paralysis", scope="network", level="yellow")
    competitor = replace(alert("YTO-SH01"), carrier="YTO", id="id-YTO-SH01")
    async with store.sessionmaker.begin() as session:
        inserts = [rose, yesterday, network, competitor]
        await write_alerts(session, inserts=inserts, updates=[], deletes=[], wall_now=WALL0)
        dropped = replace(rose, level="yellow")  # was red before, now yellow
        await record_changes(
            session,
            [AlertChange("level_changed", dropped, T0 + HOUR, previous_level="red")],
            wall_now=WALL0,
        )
    async with store.sessionmaker() as session:
        day = await alerts_between(session, T0 - 2 * HOUR, T0 + 22 * HOUR)
        carrier = await alerts_between(session, T0 - 2 * HOUR, T0 + 22 * HOUR, carrier="ZTO")
    assert [(a.subject, a.level_max) for a in day] == [
        ("CN", "yellow"),
        ("YTO-SH01", "orange"),
        ("ZTO-HZ01", "red"),
    ]
    assert [a.subject for a in carrier] == ["ZTO-HZ01"]
