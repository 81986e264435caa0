"""The alert store: SQLAlchemy (async) tables, versioned migrations, and the queries alerting runs.

db           open_database(url) -> Database (engine + sessionmaker, migrated to head)
models       the tables (also ``api_keys`` for the app)
repository   reads and writes of alerts and their change history
history      the queries of ``GET /v1/alerts`` (filters, newest first, keyset pages)
silences     reads and writes of silences
migrations   Alembic revisions, applied by ``open_database``
"""
