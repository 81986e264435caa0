"""External warnings in the store, on SQLite and PostgreSQL: recorded, read back by province and
validity, for a page of alerts in one query, and as the core's warnings frame."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from alerts.measures import ExternalWarning, WarningColour
from alerts.store.warnings import (
    insert_warning,
    list_warnings,
    warnings_for_provinces,
    warnings_frame,
)
from core.sensitivity import WARNINGS_SCHEMA
from storage.db import Database

T0 = datetime(2025, 11, 11, 0, 0, tzinfo=UTC)


def _warning(
    province: str,
    *,
    city: str | None = None,
    colour: WarningColour = "orange",
    hours: tuple[float, float] = (0, 12),
) -> ExternalWarning:
    return ExternalWarning(
        id=0,
        kind="blizzard",
        colour=colour,
        province=province,
        city=city,
        valid_from=T0 + timedelta(hours=hours[0]),
        valid_to=T0 + timedelta(hours=hours[1]),
        source="中央气象台",
        text="黑龙江中东部有暴雪，局地大暴雪",
        recorded_by="regulator:k1",
        recorded_at=T0,
    )


async def _record(store: Database, *warnings: ExternalWarning) -> list[ExternalWarning]:
    async with store.sessionmaker.begin() as session:
        return [await insert_warning(session, warning) for warning in warnings]


async def test_a_recorded_warning_reads_back_whole_with_its_times_in_utc(store: Database) -> None:
    (stored,) = await _record(store, _warning("黑龙江", city="哈尔滨", colour="red"))
    async with store.sessionmaker() as session:
        (read,) = await list_warnings(session)
    assert read == stored
    assert stored.id > 0
    assert read.valid_from == T0
    assert read.valid_from.tzinfo is not None
    assert (read.city, read.colour, read.source) == ("哈尔滨", "red", "中央气象台")


async def test_listed_by_province_and_by_validity(store: Database) -> None:
    await _record(
        store,
        _warning("黑龙江", hours=(0, 6)),
        _warning("黑龙江", hours=(6, 12)),
        _warning("浙江", hours=(0, 12)),
    )
    async with store.sessionmaker() as session:
        heilongjiang = await list_warnings(session, province="黑龙江")
        at_three = await list_warnings(session, valid_at=T0 + timedelta(hours=3))
        at_six = await list_warnings(session, province="黑龙江", valid_at=T0 + timedelta(hours=6))
    assert [w.valid_from.hour for w in heilongjiang] == [6, 0]  # newest validity first
    assert sorted(w.province for w in at_three) == ["浙江", "黑龙江"]
    assert [w.valid_from.hour for w in at_six] == [6]  # valid_to is excluded


async def test_a_page_of_alerts_reads_the_warnings_of_its_provinces_only(store: Database) -> None:
    await _record(store, _warning("黑龙江"), _warning("吉林"), _warning("浙江"))
    async with store.sessionmaker() as session:
        found = await warnings_for_provinces(session, {"黑龙江", "浙江"})
        none = await warnings_for_provinces(session, set())
    assert sorted(w.province for w in found) == ["浙江", "黑龙江"]
    assert none == []


async def test_the_core_frame_holds_the_warnings_still_valid(store: Database) -> None:
    await _record(
        store,
        _warning("黑龙江", colour="red", hours=(0, 12)),
        _warning("吉林", city="长春", hours=(0, 2)),
    )
    async with store.sessionmaker() as session:
        frame = await warnings_frame(session, valid_after=T0 + timedelta(hours=3))
    expected = pl.DataFrame(
        [
            {
                "province": "黑龙江",
                "city": None,
                "colour": "red",
                "valid_from_ms": int(T0.timestamp() * 1000),
                "valid_to_ms": int((T0 + timedelta(hours=12)).timestamp() * 1000),
            }
        ],
        schema=WARNINGS_SCHEMA,
    )
    assert frame.equals(expected)
