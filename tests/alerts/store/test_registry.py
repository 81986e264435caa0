"""The hub registry in the store: current rows, every change with who/when/before/after, and the
reads a replica refreshes from; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy.exc import IntegrityError

from alerts.store.registry import (
    changes_after,
    get_hub_row,
    hub_history,
    last_change_id,
    load_registry_rows,
    put_hub_row,
)
from app.api.deps import Principal
from core.registry import HubSpec
from storage.db import Database

WALL = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
ZTO = Principal(key_id="zt1", role="carrier", carrier="ZTO")
REGULATOR = Principal(key_id="rg1", role="regulator")


def spec(hub_id: str = "ZTO-HZ01", **changes: Any) -> HubSpec:
    return HubSpec.model_validate(
        {
            "hub_id": hub_id,
            "carrier": "ZTO",
            "name": "中通杭州",
            "province": "浙江",
            "city": "杭州",
            "lat": 30.27,
            "lon": 120.15,
            "tier": "national",
            "storage_capacity": 600_000,
            "sort_capacity_per_hour": 120_000,
            **changes,
        }
    )


async def test_a_change_is_stored_with_who_when_before_and_after(store: Database) -> None:
    from_file = spec()
    async with store.sessionmaker.begin() as session:
        first = await put_hub_row(
            session, spec(storage_capacity=700_000), ZTO, WALL, previous=from_file
        )
    async with store.sessionmaker.begin() as session:
        await put_hub_row(session, spec(key_node=True), REGULATOR, WALL + timedelta(minutes=1))
    assert (first.before, first.after.storage_capacity) == (from_file, 700_000)
    async with store.sessionmaker() as session:
        history = await hub_history(session, "ZTO-HZ01")
        current = await get_hub_row(session, "ZTO-HZ01")
    assert [(c.actor, c.actor_role, c.actor_key_id, c.at) for c in history] == [
        ("regulator:rg1", "regulator", "rg1", WALL + timedelta(minutes=1)),
        ("carrier:ZTO", "carrier", "zt1", WALL),
    ]
    # The stored row, not the file's entry, is "before" once the hub has one.
    assert history[0].before == spec(storage_capacity=700_000)
    assert history[0].after == current == spec(key_node=True)


async def test_a_new_hub_has_no_before(store: Database) -> None:
    async with store.sessionmaker.begin() as session:
        change = await put_hub_row(session, spec("ZTO-NB01"), ZTO, WALL)
    assert change.before is None
    async with store.sessionmaker() as session:
        assert await get_hub_row(session, "ZTO-NEVER") is None
        assert await hub_history(session, "ZTO-NEVER") == []


async def test_a_replica_loads_every_row_and_then_only_newer_changes(store: Database) -> None:
    async with store.sessionmaker() as session:
        assert await load_registry_rows(session) == []
        assert await last_change_id(session) == 0
    async with store.sessionmaker.begin() as session:
        for hub_id in ("ZTO-B", "ZTO-A", "ZTO-B"):
            await put_hub_row(session, spec(hub_id), ZTO, WALL)
    async with store.sessionmaker() as session:
        rows = await load_registry_rows(session)
        seen = await last_change_id(session)
    assert [row.hub_id for row in rows] == ["ZTO-A", "ZTO-B"]
    assert seen == 3
    async with store.sessionmaker.begin() as session:
        await put_hub_row(session, spec("ZTO-C"), ZTO, WALL)
    async with store.sessionmaker() as session:
        newer = await changes_after(session, seen)
        page = await hub_history(session, "ZTO-B", limit=1)
        older = await hub_history(session, "ZTO-B", before_id=page[0].id)
    assert [change.after.hub_id for change in newer] == ["ZTO-C"]
    assert [change.id for change in page + older] == [3, 1]


async def test_two_first_registrations_of_one_hub_store_one(store: Database) -> None:
    async def register(principal: Principal) -> None:
        async with store.sessionmaker.begin() as session:
            await put_hub_row(session, spec("ZTO-RACE"), principal, WALL)

    results = await asyncio.gather(register(ZTO), register(REGULATOR), return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    # SQLite serialises the two writers (the second updates); PostgreSQL may refuse the second.
    assert all(isinstance(error, IntegrityError) for error in failed)
    async with store.sessionmaker() as session:
        history = await hub_history(session, "ZTO-RACE")
    assert len(history) == 2 - len(failed)
    assert history[-1].before is None


async def test_times_come_back_aware_utc(store: Database) -> None:
    async with store.sessionmaker.begin() as session:
        await put_hub_row(session, spec(), ZTO, WALL.astimezone(timezone(timedelta(hours=8))))
    async with store.sessionmaker() as session:
        (change,) = await hub_history(session, "ZTO-HZ01")
    assert change.at == WALL
    assert change.at.tzinfo is not None
