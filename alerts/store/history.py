"""Alert history queries (``GET /v1/alerts``): filters, newest first, keyset pages."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from alerts.model import Alert
from alerts.store.models import AlertRow
from alerts.store.repository import to_alert


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """Filters of ``GET /v1/alerts``; a None or empty filter does not filter.

    ``since``/``until`` select alerts active at some moment of the range (event time):
    started before ``until`` and not resolved before ``since``.
    """

    states: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    carriers: tuple[str, ...] = ()
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    cursor: str | None = None


def encode_cursor(alert: Alert) -> str:
    """Opaque keyset cursor after ``alert`` (newest first order)."""
    raw = f"{alert.started_at.isoformat()}|{alert.id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """``(started_at, id)`` of a cursor; ``ValueError`` when it is not one of ours."""
    padded = cursor + "=" * (-len(cursor) % 4)
    started, _, alert_id = base64.urlsafe_b64decode(padded).decode().partition("|")
    if not alert_id:
        raise ValueError("not a cursor")
    return datetime.fromisoformat(started), alert_id


async def query_alerts(session: AsyncSession, query: AlertQuery) -> tuple[list[Alert], str | None]:
    """A page of alerts, newest first, and the cursor of the next page (None at the end)."""
    conditions: list[Any] = []
    for column, wanted in (
        (AlertRow.state, query.states),
        (AlertRow.level, query.levels),
        (AlertRow.rule, query.rules),
        (AlertRow.scope, query.scopes),
        (AlertRow.province, query.provinces),
        (AlertRow.carrier, query.carriers),
    ):
        if wanted:
            conditions.append(column.in_(wanted))
    if query.subject is not None:
        conditions.append(AlertRow.subject == query.subject)
    if query.until is not None:
        conditions.append(AlertRow.started_at < query.until)
    if query.since is not None:
        conditions.append(or_(AlertRow.resolved_at.is_(None), AlertRow.resolved_at >= query.since))
    if query.cursor is not None:
        started, alert_id = decode_cursor(query.cursor)
        conditions.append(
            or_(
                AlertRow.started_at < started,
                and_(AlertRow.started_at == started, AlertRow.id < alert_id),
            )
        )
    statement = (
        select(AlertRow)
        .where(*conditions)
        .order_by(AlertRow.started_at.desc(), AlertRow.id.desc())
        .limit(query.limit + 1)
    )
    alerts = [to_alert(row) for row in await session.scalars(statement)]
    if len(alerts) <= query.limit:
        return alerts, None
    return alerts[: query.limit], encode_cursor(alerts[query.limit - 1])
