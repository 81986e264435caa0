"""Fixtures of the storage tests: the database on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from tests.support.database import database, database_url
from tests.support.postgres import postgres_server, postgres_url

__all__ = ["database", "database_url", "postgres_server", "postgres_url"]
