"""API keys on the service database (SQLite and a real PostgreSQL): an issued key works until it
is revoked, on every replica within the cache's TTL; keys stored by earlier releases keep working;
lookups are cached briefly and the caches stay bounded whatever keys callers send."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

import app.keys
from app.api.deps import Principal
from app.keys import CACHE_TTL_S, UNKNOWN_CACHE_SIZE, KeyStore, TtlCache, hash_key
from storage.db import Database
from tests.support.database import database, database_url
from tests.support.postgres import postgres_server, postgres_url

__all__ = ["database", "database_url", "postgres_server", "postgres_url"]


def count_queries(engine: AsyncEngine) -> list[str]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return statements


def selects(statements: list[str]) -> int:
    return len([statement for statement in statements if statement.startswith("SELECT")])


async def test_an_issued_key_works_until_it_is_revoked(database: Database) -> None:
    keys = KeyStore(database.engine)
    issued = await keys.issue("carrier:ZTO")
    assert issued.key.startswith(f"pw_{issued.id}_")
    assert issued.role == "carrier:ZTO"
    assert await keys.lookup(issued.key) == Principal(
        key_id=issued.id, role="carrier", carrier="ZTO"
    )
    assert await keys.revoke(issued.id)
    assert await keys.lookup(issued.key) is None
    assert not await keys.revoke(issued.id)  # already revoked: the API answers 404


async def test_keys_of_each_role_are_told_apart(database: Database) -> None:
    keys = KeyStore(database.engine)
    regulator = await keys.issue("regulator")
    oncall = await keys.issue("oncall")
    assert await keys.lookup(regulator.key) == Principal(key_id=regulator.id, role="regulator")
    assert await keys.lookup(oncall.key) == Principal(key_id=oncall.id, role="oncall")
    assert await keys.lookup(regulator.key.replace("pw_", "pw_x", 1)) is None


async def test_a_key_revoked_on_one_replica_is_refused_by_another_within_the_ttl(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SimpleNamespace(now=100.0)
    monkeypatch.setattr(app.keys, "time", SimpleNamespace(monotonic=lambda: clock.now))
    one, other = KeyStore(database.engine), KeyStore(database.engine)
    issued = await one.issue("oncall")
    assert await other.lookup(issued.key) is not None  # now in the other replica's cache
    assert await one.revoke(issued.id)
    clock.now += CACHE_TTL_S
    assert await other.lookup(issued.key) is None


async def test_keys_stored_by_an_earlier_release_keep_working(database: Database) -> None:
    raw_key = "pw_0ld0ld0ld0ld_secret"
    async with database.engine.begin() as connection:  # the row as releases before 2026-12 wrote it
        await connection.execute(
            text(
                "INSERT INTO api_keys (id, key_hash, role, carrier, created_at) "
                "VALUES (:id, :h, :role, :carrier, :created_at)"
            ),
            {
                "id": "0ld0ld0ld0ld",
                "h": hash_key(raw_key),
                "role": "carrier",
                "carrier": "YTO",
                "created_at": datetime(2025, 11, 1, tzinfo=UTC),
            },
        )
    keys = KeyStore(database.engine)
    assert await keys.lookup(raw_key) == Principal(
        key_id="0ld0ld0ld0ld", role="carrier", carrier="YTO"
    )
    assert await keys.revoke("0ld0ld0ld0ld")
    assert await KeyStore(database.engine).lookup(raw_key) is None


async def test_the_bootstrap_admin_key_works_without_being_stored(database: Database) -> None:
    keys = KeyStore(database.engine, admin_key="admin-from-the-environment")
    queries = count_queries(database.engine)
    assert await keys.lookup("admin-from-the-environment") == Principal(
        key_id="bootstrap", role="admin"
    )
    assert queries == []
    assert await KeyStore(database.engine).lookup("admin-from-the-environment") is None


async def test_a_flood_of_unknown_keys_does_not_grow_memory(database: Database) -> None:
    keys = KeyStore(database.engine)
    for _ in range(UNKNOWN_CACHE_SIZE + 200):
        assert await keys.lookup(f"pw_{secrets.token_hex(8)}") is None
    assert len(keys.unknown) == UNKNOWN_CACHE_SIZE
    assert len(keys.known) == 0


async def test_a_wrong_key_retried_costs_one_query(database: Database) -> None:
    keys = KeyStore(database.engine)
    queries = count_queries(database.engine)
    for _ in range(5):
        assert await keys.lookup("pw_wrong") is None
    assert selects(queries) == 1


async def test_a_known_key_is_served_from_the_cache_until_revoked(database: Database) -> None:
    keys = KeyStore(database.engine)
    issued = await keys.issue("carrier:ZTO")
    queries = count_queries(database.engine)
    for _ in range(3):
        principal = await keys.lookup(issued.key)
        assert principal is not None
        assert principal.carrier == "ZTO"
    assert selects(queries) == 1
    assert await keys.revoke(issued.id)
    assert await keys.lookup(issued.key) is None


def test_the_cache_forgets_after_its_ttl_and_drops_the_least_recently_used() -> None:
    cache: TtlCache[int] = TtlCache(size=2, ttl_s=5.0)
    cache.put("a", 1, now=0.0)
    cache.put("b", 2, now=1.0)
    assert cache.get("a", now=2.0) == 1  # a is now the most recently used
    cache.put("c", 3, now=2.0)
    assert (cache.get("a", now=2.0), cache.get("b", now=2.0), cache.get("c", now=2.0)) == (
        1,
        None,
        3,
    )
    assert cache.get("a", now=5.0) is None  # stored at 0.0, kept 5 s
    assert len(cache) == 1
