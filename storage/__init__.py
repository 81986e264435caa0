"""The service's one database, shared by every package that stores something.

db           open_database(url) -> Database (engine + sessionmaker, migrated to head)
base         the declarative Base every table is declared on, and the column types they share
migrations   Alembic revisions of the whole schema, applied by ``open_database``

The tables themselves live with the code that owns them: the alerts' in ``alerts.store``, the
API keys in ``app.keys_store``. This package knows none of them.
"""
