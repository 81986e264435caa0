"""Reads and writes of alerts and their history. Every function takes an open ``AsyncSession``;
the caller owns the transaction, so a tick's rows, history and outbox commit together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from alerts.model import ACTIVE_STATES, Alert, AlertChange, alert_from_json
from alerts.store.models import AlertEventRow, AlertRow, EvaluationMarkRow
from alerts.store.rows import field_values, from_row
from storage.base import Base

LIFECYCLE_COLUMNS = (
    "level",
    "state",
    "hub_id",
    "carrier",
    "province",
    "summary",
    "summary_en",
    "values_json",
    "fired_at",
    "resolved_at",
    "clear_since",
    "downgrade_since",
    "firing_wall_at",
    "detected_late_s",
)
"""What a tick may write. Acknowledgement and escalation columns have other writers."""


def to_alert(row: AlertRow) -> Alert:
    """The domain object of a row."""
    return from_row(Alert, row)


def _insert_values(alert: Alert, wall_now: datetime) -> dict[str, Any]:
    return {**field_values(alert), "updated_at": wall_now}


def _lifecycle_values(alert: Alert, wall_now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(alert, name) for name in LIFECYCLE_COLUMNS}
    values["updated_at"] = wall_now
    return values


async def load_active(session: AsyncSession) -> dict[str, Alert]:
    """Every pending or firing alert, by fingerprint (one query, plain rows: no ORM identity map
    on the hot path)."""
    table = Base.metadata.tables["alerts"]
    result = await session.execute(select(*table.columns).where(table.c.state.in_(ACTIVE_STATES)))
    alerts = (from_row(Alert, row) for row in result)
    return {alert.fingerprint: alert for alert in alerts}


async def write_alerts(
    session: AsyncSession,
    *,
    inserts: Sequence[Alert],
    updates: Sequence[Alert],
    deletes: Sequence[str],
    wall_now: datetime,
) -> None:
    """Apply a tick's decision: bulk insert, bulk update by primary key, delete cancelled."""
    if inserts:
        await session.execute(insert(AlertRow), [_insert_values(a, wall_now) for a in inserts])
    if updates:  # one executemany of a Core UPDATE by primary key
        table = Base.metadata.tables["alerts"]
        statement = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({name: bindparam(name) for name in (*LIFECYCLE_COLUMNS, "updated_at")})
        )
        rows = [{**_lifecycle_values(a, wall_now), "_id": a.id} for a in updates]
        await session.execute(statement, rows)
    if deletes:
        await session.execute(delete(AlertRow).where(AlertRow.id.in_(deletes)))


async def record_changes(
    session: AsyncSession, changes: Sequence[AlertChange], *, wall_now: datetime
) -> list[AlertChange]:
    """Append ``changes`` to the history; return them with their event ids."""
    if not changes:
        return []
    rows = [
        {
            "alert_id": change.alert.id,
            "kind": change.kind,
            "at": change.at,
            "recorded_at": wall_now,
            "previous_level": change.previous_level,
            "actor": change.actor,
            "alert_json": change.alert.as_json(),
        }
        for change in changes
    ]
    # One executemany, then one query for the ids: an ordered RETURNING would make SQLite insert
    # row by row. Within one call, (alert id, kind) is unique and recorded_at is shared.
    await session.execute(insert(AlertEventRow), rows)
    found = await session.execute(
        select(AlertEventRow.id, AlertEventRow.alert_id, AlertEventRow.kind).where(
            AlertEventRow.recorded_at == wall_now,
            AlertEventRow.alert_id.in_({change.alert.id for change in changes}),
        )
    )
    ids = {(alert_id, kind): event_id for event_id, alert_id, kind in found}
    stored = [replace(change, event_id=ids[(change.alert.id, change.kind)]) for change in changes]
    return sorted(stored, key=lambda change: change.event_id)


async def events_after(session: AsyncSession, after_id: int, *, limit: int) -> list[AlertChange]:
    """History entries with ``id > after_id``, oldest first."""
    rows = await session.scalars(
        select(AlertEventRow)
        .where(AlertEventRow.id > after_id)
        .order_by(AlertEventRow.id)
        .limit(limit)
    )
    return _changes(rows)


async def events_of(session: AsyncSession, alert_id: str) -> list[AlertChange]:
    """The whole history of one alert, oldest first."""
    rows = await session.scalars(
        select(AlertEventRow).where(AlertEventRow.alert_id == alert_id).order_by(AlertEventRow.id)
    )
    return _changes(rows)


def _changes(rows: Iterable[AlertEventRow]) -> list[AlertChange]:
    return [
        from_row(AlertChange, row, alert=alert_from_json(row.alert_json), event_id=row.id)
        for row in rows
    ]


async def last_event_id(session: AsyncSession) -> int:
    """The newest history id (0 when empty)."""
    return int(await session.scalar(select(func.coalesce(func.max(AlertEventRow.id), 0))) or 0)


async def get_alert(session: AsyncSession, alert_id: str) -> Alert | None:
    """One alert by id."""
    row = await session.get(AlertRow, alert_id)
    return None if row is None else to_alert(row)


async def acknowledge(session: AsyncSession, alert_id: str, *, by: str, wall_now: datetime) -> bool:
    """Set who and when on an active, not yet acknowledged alert; False when nothing changed."""
    result = await session.execute(
        update(AlertRow)
        .where(
            AlertRow.id == alert_id,
            AlertRow.acked_at.is_(None),
            AlertRow.state.in_(ACTIVE_STATES),
        )
        .values(acked_by=by, acked_at=wall_now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def firing_unacknowledged(session: AsyncSession, *, fired_before: datetime) -> list[Alert]:
    """Firing alerts nobody acknowledged that fired (wall clock) before ``fired_before``."""
    rows = await session.scalars(
        select(AlertRow).where(
            AlertRow.state == "firing",
            AlertRow.acked_at.is_(None),
            AlertRow.firing_wall_at <= fired_before,
        )
    )
    return [to_alert(row) for row in rows]


async def firing(session: AsyncSession) -> list[Alert]:
    """Every firing alert."""
    rows = await session.scalars(select(AlertRow).where(AlertRow.state == "firing"))
    return [to_alert(row) for row in rows]


async def advance_escalation(
    session: AsyncSession, alert_id: str, *, from_step: int, to_step: int
) -> bool:
    """Move an alert's escalation step if nobody else did first (False: someone did)."""
    result = await session.execute(
        update(AlertRow)
        .where(
            AlertRow.id == alert_id,
            AlertRow.escalation_step == from_step,
            AlertRow.acked_at.is_(None),
        )
        .values(escalation_step=to_step)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def load_marks(session: AsyncSession) -> dict[str, datetime]:
    """Evaluation marks: scope key (``partition:N``, ``network``) → last step decided."""
    rows = await session.execute(select(EvaluationMarkRow.scope_key, EvaluationMarkRow.step_at))
    return {key: step for key, step in rows.tuples()}


async def save_marks(
    session: AsyncSession, marks: dict[str, datetime], *, wall_now: datetime
) -> None:
    """Move the marks of ``marks`` on (never back: a mark is the max of the old and new)."""
    if not marks:
        return
    stored = await load_marks(session)
    new = {k: v for k, v in marks.items() if k not in stored}
    moved = {k: v for k, v in marks.items() if k in stored and v > stored[k]}
    if new:
        await session.execute(
            insert(EvaluationMarkRow),
            [{"scope_key": k, "step_at": v, "updated_at": wall_now} for k, v in new.items()],
        )
    if moved:
        table = Base.metadata.tables["evaluation_marks"]
        statement = (
            update(table)
            .where(table.c.scope_key == bindparam("_key"))
            .values(step_at=bindparam("step_at"), updated_at=bindparam("updated_at"))
        )
        rows = [{"_key": k, "step_at": v, "updated_at": wall_now} for k, v in moved.items()]
        await session.execute(statement, rows)
