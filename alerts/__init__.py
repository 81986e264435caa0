"""Alerting: from the core's risk signals to the on-call phone, with nothing lost.

One module per stage, in the order a signal meets them (see docs/alerting.md):

    tick, fingerprint   the signal frame → one Signal per (rule, scope, subject)
    lifecycle           pure decisions with ``now``: pending → firing → resolved, level changes
    store/              SQLAlchemy tables, Alembic migrations, queries (SQLite or PostgreSQL)
    outbox              notifications recorded in the tick's transaction, delivered later
    delivery            the wall-clock pass: escalate, claim, plan, send, record
    escalate, route     who is told, and who next when nobody acknowledges
    dispatch            grouping, rate limits and digests (with silence and inhibit)
    notify/             one module per integration; render and texts write the messages
    service             ``AlertService``, the facade the app holds
"""
