"""Opening the database: migrations to head on SQLite and PostgreSQL, idempotent, matching the
tables their owners declare; times come back aware and in UTC."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.exc import StatementError

from alerts.store import duty, incidents, mitigations, report_sends, reports, warnings
from alerts.store.models import SilenceRow
from app import keys_store
from core.errors import ConfigError
from storage.base import Base
from storage.db import MIGRATIONS_DIR, Database, current_revision, open_database

TABLES = {
    "alerts",
    "alert_events",
    "silences",
    "outbox",
    "notification_log",
    "evaluation_marks",
    "hub_registry",
    "hub_registry_changes",
    # Each owner declares its tables on Base when imported: import every one, or the schema
    # check below would see the migrated tables of a module not imported as extra.
    duty.DutyShiftRow.__tablename__,
    incidents.IncidentRow.__tablename__,
    incidents.IncidentReportRow.__tablename__,
    mitigations.MitigationRow.__tablename__,
    warnings.ExternalWarningRow.__tablename__,
    reports.HubHourRow.__tablename__,
    report_sends.ReportSendRow.__tablename__,
    keys_store.ApiKeyRow.__tablename__,
}


def _head() -> str:
    scripts = ScriptDirectory.from_config(_alembic_config())
    head = scripts.get_current_head()
    assert head is not None
    return head


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


async def test_migrated_to_head_with_every_table(database: Database) -> None:
    async with database.engine.connect() as connection:
        assert await connection.run_sync(current_revision) == _head()
        tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    assert tables >= TABLES


async def test_schema_matches_the_models(database: Database) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return list(compare_metadata(context, Base.metadata))

    async with database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


def _silence(silence_id: str, start: datetime) -> SilenceRow:
    return SilenceRow(
        id=silence_id,
        matchers=[],
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        created_by="oncall:1",
        created_at=start,
        comment="",
    )


async def _revision_rows(db: Database) -> list[str]:
    async with db.engine.connect() as connection:
        result = await connection.execute(text("SELECT version_num FROM alembic_version"))
        return [str(row[0]) for row in result]


async def test_opening_again_keeps_what_was_stored(database_url: str, database: Database) -> None:
    async with database.sessionmaker.begin() as session:
        session.add(_silence("kept", datetime(2025, 11, 11, 12, tzinfo=UTC)))
    again = await open_database(database_url)
    try:
        async with again.sessionmaker() as session:
            assert await session.scalar(select(SilenceRow.id)) == "kept"
        assert await _revision_rows(again) == [_head()]
    finally:
        await again.close()


async def test_replicas_starting_together_migrate_once(database_url: str) -> None:
    opened = await asyncio.gather(*(open_database(database_url) for _ in range(3)))
    try:
        for db in opened:  # every replica sees one schema at head, none a half-made one
            assert await _revision_rows(db) == [_head()]
        async with opened[0].engine.connect() as connection:
            tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        assert tables >= TABLES
    finally:
        for db in opened:
            await db.close()


async def test_times_come_back_aware_utc(database: Database) -> None:
    beijing = timezone(timedelta(hours=8))
    start = datetime(2025, 11, 11, 20, 0, 0, 123000, tzinfo=beijing)
    async with database.sessionmaker.begin() as session:
        session.add(
            SilenceRow(
                id="s",
                matchers=[],
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                created_by="oncall:1",
                created_at=start,
                comment="",
            )
        )
    async with database.sessionmaker() as session:
        stored = await session.scalar(select(SilenceRow.starts_at))
    assert stored == start
    assert stored is not None
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)


async def test_naive_times_are_refused(database: Database) -> None:
    naive = SilenceRow(
        id="n",
        matchers=[],
        starts_at=datetime(2025, 11, 11),
        ends_at=datetime(2025, 11, 12),
        created_by="x",
        created_at=datetime(2025, 11, 11),
        comment="",
    )

    async def store_it() -> None:
        async with database.sessionmaker.begin() as session:
            session.add(naive)

    with pytest.raises(StatementError, match="naive datetime"):
        await store_it()


async def test_other_drivers_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="sqlite\\+aiosqlite"):
        await open_database("mysql+aiomysql://localhost/peakwatch")
