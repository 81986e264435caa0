"""The alert store: SQLAlchemy (async) tables and the queries alerting runs, on the shared
database of ``storage`` (engine, ``Base``, migrations).

models       the tables (also ``api_keys`` for the app)
repository   reads and writes of alerts and their change history
history      the queries of ``GET /v1/alerts`` (filters, newest first, keyset pages)
silences     reads and writes of silences
"""
