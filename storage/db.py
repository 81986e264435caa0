"""Open the service database: an async engine on SQLite (default) or PostgreSQL, migrated to head.

    db = await open_database("sqlite+aiosqlite:///.peakwatch/peakwatch.db")
    async with db.sessionmaker.begin() as session: ...
    await db.close()

SQLite runs in WAL mode and starts every transaction with ``BEGIN IMMEDIATE``, so the tick's
write and the delivery loop's writes queue on the busy timeout instead of failing with
"database is locked". On PostgreSQL, replicas that start together take an advisory lock while
migrating, so exactly one of them upgrades the schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

from core.errors import ConfigError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 15_000
_MIGRATION_LOCK_ID = 0x7065616B  # "peak": the advisory lock replicas take while migrating


@dataclass(frozen=True)
class Database:
    """An open database: the engine, a session factory, and ``close()``."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


async def open_database(url: str) -> Database:
    """Create the engine for ``url``, run the migrations to head, and return the database.

    ``url`` is ``sqlite+aiosqlite:///path`` (the file's folder is created) or
    ``postgresql+asyncpg://user@host:port/db``. Any other driver raises ``ConfigError``.
    """
    engine = _create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to_head)
    except BaseException:
        await engine.dispose()
        raise
    return Database(engine=engine, sessionmaker=async_sessionmaker(engine, expire_on_commit=False))


def _create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql+asyncpg":
        return create_async_engine(parsed, pool_pre_ping=True)
    if parsed.drivername != "sqlite+aiosqlite":
        raise ConfigError(
            f"database URL must be sqlite+aiosqlite:///… or postgresql+asyncpg://…, "
            f"not {parsed.drivername}"
        )
    options: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    if parsed.database in (None, "", ":memory:"):
        options["poolclass"] = StaticPool  # one shared connection, or each would see its own DB
    else:
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(parsed, **options)
    event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _upgrade_to_head(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def current_revision(connection: Connection) -> str | None:
    """The schema revision of a connected database (None before the first migration)."""
    from alembic.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()
