"""The service database for tests, once on SQLite and once on a real PostgreSQL.

    database_url   per test: an empty database's URL (SQLite file; PostgreSQL, marked integration)
    database       per test: that database opened with ``storage.db.open_database`` (at head)

A module that uses them imports them, and ``postgres_server`` / ``postgres_url`` from
``tests.support.postgres``, so that pytest finds them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import Database, open_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database's URL, once on SQLite and once on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'peakwatch.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """The database at ``database_url``, migrated to head; closed after the test."""
    db = await open_database(database_url)
    try:
        yield db
    finally:
        await db.close()
