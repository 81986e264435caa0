"""The alert store: SQLAlchemy (async) tables and the queries alerting runs, on the shared
database of ``storage`` (engine, ``Base``, migrations).

models        the tables of the alerts (the app's ``api_keys`` are in ``app.keys_store``)
repository    reads and writes of alerts and their change history
history       the queries of ``GET /v1/alerts`` (filters, newest first, keyset pages)
silences      reads and writes of silences
outbox        the notification outbox: rows recorded with the transition, leased, sent, retried
alert_states  what a delivery pass reads of the alerts (acknowledged, firing, by id)
"""
