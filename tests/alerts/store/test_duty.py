"""The duty roster in the store (SQLite and a real PostgreSQL): a sheet stored comes back whole,
a second sheet replaces the first, and the shifts in force at a moment are the ones found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts.duty import DutyRole, Shift, on_duty, parse_roster_csv
from alerts.store.duty import all_shifts, replace_roster, shifts_between
from storage.db import Database

SHEET = """日期,班次,省份,值班人员,带班领导,电话,邮箱,钉钉
2025-11-11,白班,浙江,王伟,李强,13800000001,wangwei@post.example,ding-wangwei
2025-11-11,夜班,浙江,陈静,李强,13800000002,chenjing@post.example,
2025-11-11,全天,全国,赵敏,孙磊,13800000003,zhaomin@post.example,
"""
WALL = datetime(2025, 11, 10, 9, 0, tzinfo=UTC)
NOON_BEIJING = datetime(2025, 11, 11, 4, 0, tzinfo=UTC)  # 12:00 +08:00
NIGHT_BEIJING = datetime(2025, 11, 11, 15, 0, tzinfo=UTC)  # 23:00 +08:00


async def test_a_stored_sheet_comes_back_whole(store: Database) -> None:
    shifts = parse_roster_csv(SHEET)
    async with store.sessionmaker.begin() as session:
        assert await replace_roster(session, shifts, by="regulator:k1", wall_now=WALL) == 6
    async with store.sessionmaker() as session:
        stored = await all_shifts(session)

    def order(shift: Shift) -> tuple[str, str, datetime]:
        return shift.person, shift.role, shift.starts_at

    assert sorted(stored, key=order) == sorted(shifts, key=order)
    wang = next(s for s in stored if s.person == "王伟")
    assert wang.dingtalk_id == "ding-wangwei"
    assert wang.starts_at == datetime(2025, 11, 11, 0, 0, tzinfo=UTC)  # 08:00 Beijing
    assert wang.starts_at.tzinfo is not None


async def test_the_shifts_in_force_answer_who_is_on_duty(store: Database) -> None:
    async with store.sessionmaker.begin() as session:
        await replace_roster(session, parse_roster_csv(SHEET), by="admin:k", wall_now=WALL)
    async with store.sessionmaker() as session:
        noon = await shifts_between(session, NOON_BEIJING, NOON_BEIJING)
        night = await shifts_between(session, NIGHT_BEIJING, NIGHT_BEIJING)
    assert {s.person for s in noon} == {"王伟", "李强", "赵敏", "孙磊"}
    assert on_duty(noon, "浙江", NOON_BEIJING) is not None

    def person(province: str, role: DutyRole = "duty") -> str | None:
        found = on_duty(night, province, NIGHT_BEIJING, role=role)
        return None if found is None else found.person

    assert person("浙江") == "陈静"
    assert person("江苏") == "赵敏"  # no shift of its own: the national duty office
    assert person("浙江", "leader") == "李强"


async def test_a_new_sheet_replaces_the_old(store: Database) -> None:
    second = """日期,班次,省份,值班人员
2025-11-12,白班,浙江,周杰
"""
    async with store.sessionmaker.begin() as session:
        await replace_roster(session, parse_roster_csv(SHEET), by="admin:k", wall_now=WALL)
    async with store.sessionmaker.begin() as session:
        later = WALL + timedelta(hours=1)
        await replace_roster(session, parse_roster_csv(second), by="admin:k", wall_now=later)
    async with store.sessionmaker() as session:
        stored = await all_shifts(session)
        noon = await shifts_between(session, NOON_BEIJING, NOON_BEIJING)
    assert [s.person for s in stored] == ["周杰"]
    assert noon == []
