"""Fixtures of the alerting tests: a migrated SQLite store, a service factory, and the real
servers (PostgreSQL, Alertmanager) from tests/support."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from alerts.config import AlertingConfig
from alerts.service import AlertService
from storage.db import Database, open_database
from tests.alerts.factories import Clock
from tests.support.alertmanager import alertmanager
from tests.support.database import database, database_url
from tests.support.postgres import postgres_server, postgres_url

__all__ = ["alertmanager", "database", "database_url", "postgres_server", "postgres_url"]

ServiceFactory = Callable[..., Awaitable[AlertService]]


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh SQLite store, migrated to head."""
    db = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'alerts.db'}")
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def store_url(database_url: str) -> str:
    """An empty store's URL, once on SQLite and once on a real PostgreSQL."""
    return database_url


@pytest.fixture
def store(database: Database) -> Database:
    """An open store migrated to head, on each back end."""
    return database


@pytest.fixture
def clock() -> Clock:
    """The wall clock of the service under test."""
    return Clock()


@pytest.fixture
async def make_service(sqlite_db: Database, clock: Clock) -> AsyncIterator[ServiceFactory]:
    """Builds services on the SQLite store; closes them all at the end."""
    opened: list[AlertService] = []

    async def build(
        config: dict[str, Any] | AlertingConfig | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        db: Database | None = None,
    ) -> AlertService:
        if not isinstance(config, AlertingConfig):
            config = AlertingConfig.from_mapping({"ack_link_secret": "s", **(config or {})})
        service = await AlertService.open(
            db=db or sqlite_db,
            config=config,
            public_url="https://peakwatch.example",
            wall_clock=clock,
            transport=transport,
        )
        opened.append(service)
        return service

    try:
        yield build
    finally:
        for service in opened:
            await service.close()
