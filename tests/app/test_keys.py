"""API key lookups: cached briefly, and the caches stay bounded whatever keys callers send."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.keys import UNKNOWN_CACHE_SIZE, KeyStore, TtlCache

API_KEYS = """
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL, carrier TEXT,
    created_at TIMESTAMP NOT NULL, revoked_at TIMESTAMP
)
"""


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}")
    async with engine.begin() as conn:
        await conn.execute(text(API_KEYS))
    try:
        yield engine
    finally:
        await engine.dispose()


def count_queries(engine: AsyncEngine) -> list[str]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return statements


async def test_a_flood_of_unknown_keys_does_not_grow_memory(engine: AsyncEngine) -> None:
    store = KeyStore(engine)
    for _ in range(UNKNOWN_CACHE_SIZE + 200):
        assert await store.lookup(f"pw_{secrets.token_hex(8)}") is None
    assert len(store.unknown) == UNKNOWN_CACHE_SIZE
    assert len(store.known) == 0


async def test_a_wrong_key_retried_costs_one_query(engine: AsyncEngine) -> None:
    store = KeyStore(engine)
    queries = count_queries(engine)
    for _ in range(5):
        assert await store.lookup("pw_wrong") is None
    assert len([q for q in queries if q.startswith("SELECT")]) == 1


async def test_a_known_key_is_served_from_the_cache_until_revoked(engine: AsyncEngine) -> None:
    store = KeyStore(engine)
    issued = await store.issue("carrier:ZTO")
    queries = count_queries(engine)
    for _ in range(3):
        principal = await store.lookup(issued.key)
        assert principal is not None
        assert principal.carrier == "ZTO"
    assert len([q for q in queries if q.startswith("SELECT")]) == 1
    assert await store.revoke(issued.id)
    assert await store.lookup(issued.key) is None


async def test_a_key_refused_before_it_was_stored_works_once_stored(engine: AsyncEngine) -> None:
    store = KeyStore(engine)
    assert await store.lookup("pw_demo_zto") is None
    await store.issue_known("pw_demo_zto", "carrier:ZTO")
    assert await store.lookup("pw_demo_zto") is not None


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
