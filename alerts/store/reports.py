"""The daily report in the store: one row per hub and hour (table ``hub_hours``), and the
alerts of a day.

    async with db.sessionmaker.begin() as session:
        await upsert_hours(session, rows)                # core.reports.HOUR_SCHEMA frame
    rows = await hours_between(session, start, end, province="浙江", carrier="ZTO")
    alerts = await alerts_between(session, start, end, carrier="ZTO")

The upsert folds a row into the stored one exactly as ``core.reports.merge_hours`` does (the
larger count or maximum, the backlog of the later step), so the same rows written twice, by a
replay, a restart or another replica, leave the table as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import BigInteger, Float, Index, SmallInteger, String, and_, case, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from alerts.store.models import AlertEventRow, AlertRow
from core.levels import LEVEL_RANK
from core.reports import HOUR_SCHEMA
from storage.base import Base


class HubHourRow(Base):
    """One hub's hour in event time (UTC hour start): counts, backlogs, worst level, silence."""

    __tablename__ = "hub_hours"
    __table_args__ = (Index("ix_hub_hours_province_hour_start", "province", "hour_start"),)

    hour_start: Mapped[datetime] = mapped_column(primary_key=True)
    hub_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    carrier: Mapped[str] = mapped_column(String(32))
    province: Mapped[str] = mapped_column(String(64))
    storage_capacity: Mapped[int] = mapped_column(BigInteger)
    arrivals: Mapped[int] = mapped_column(BigInteger)
    departures: Mapped[int] = mapped_column(BigInteger)
    backlog_end: Mapped[int | None] = mapped_column(BigInteger)
    backlog_end_at: Mapped[datetime | None]
    backlog_max: Mapped[int | None] = mapped_column(BigInteger)
    level_rank: Mapped[int | None] = mapped_column(SmallInteger)
    silent_max_s: Mapped[float | None] = mapped_column(Float)


_MAXIMA = ("arrivals", "departures", "backlog_max", "level_rank", "silent_max_s")


def _larger(stored: Any, new: Any) -> ColumnElement[Any]:
    """The larger of two values, either may be null (portable: no GREATEST on SQLite)."""
    return case((new.is_(None), stored), (stored.is_(None), new), (new > stored, new), else_=stored)


async def upsert_hours(session: AsyncSession, rows: pl.DataFrame) -> int:
    """Fold ``rows`` (``HOUR_SCHEMA``) into ``hub_hours`` in one statement; how many rows."""
    if rows.height == 0:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(HubHourRow)
    table, new = HubHourRow.__table__.c, statement.excluded
    later = and_(
        new.backlog_end_at.is_not(None),
        or_(table.backlog_end_at.is_(None), new.backlog_end_at >= table.backlog_end_at),
    )
    updates: dict[str, Any] = {name: _larger(table[name], new[name]) for name in _MAXIMA}
    updates |= {
        "carrier": new.carrier,
        "province": new.province,
        "storage_capacity": new.storage_capacity,
        "backlog_end": case((later, new.backlog_end), else_=table.backlog_end),
        "backlog_end_at": case((later, new.backlog_end_at), else_=table.backlog_end_at),
    }
    statement = statement.on_conflict_do_update(
        index_elements=["hour_start", "hub_id"], set_=updates
    )
    await session.execute(statement, rows.select(list(HOUR_SCHEMA)).to_dicts())
    return rows.height


async def hours_between(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    province: str | None = None,
    carrier: str | None = None,
) -> pl.DataFrame:
    """The rows of hours ``start ≤ hour_start < end`` (``HOUR_SCHEMA``), of one province and
    one carrier when given (a carrier's report never reads another carrier's row)."""
    query = select(*(getattr(HubHourRow, name) for name in HOUR_SCHEMA)).where(
        HubHourRow.hour_start >= start, HubHourRow.hour_start < end
    )
    if province is not None:
        query = query.where(HubHourRow.province == province)
    if carrier is not None:
        query = query.where(HubHourRow.carrier == carrier)
    result = await session.execute(query.order_by(HubHourRow.hour_start, HubHourRow.hub_id))
    return pl.DataFrame([tuple(row) for row in result], schema=HOUR_SCHEMA, orient="row")


@dataclass(frozen=True)
class DayAlert:
    """An alert active at some time of a day, with the worst level it reached."""

    id: str
    rule: str
    scope: str
    subject: str
    level_max: str
    state: str
    started_at: datetime
    resolved_at: datetime | None
    acked_by: str | None
    summary: str
    province: str | None
    carrier: str | None


async def alerts_between(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    province: str | None = None,
    carrier: str | None = None,
) -> list[DayAlert]:
    """Alerts active during ``[start, end)`` in event time, oldest first. ``province``: the
    province's own alerts and those of its hubs; ``carrier``: that carrier's alerts only (no
    province or network alert, whose numbers are everyone's)."""
    query = select(AlertRow).where(
        AlertRow.started_at < end,
        or_(AlertRow.resolved_at.is_(None), AlertRow.resolved_at >= start),
        AlertRow.state != "pending",
    )
    if province is not None:
        query = query.where(AlertRow.province == province)
    if carrier is not None:
        query = query.where(AlertRow.carrier == carrier, AlertRow.scope.in_(("hub", "carrier")))
    rows = list((await session.scalars(query.order_by(AlertRow.started_at, AlertRow.id))).all())
    earlier = await _earlier_levels(session, [row.id for row in rows])
    return [
        DayAlert(
            id=row.id,
            rule=row.rule,
            scope=row.scope,
            subject=row.subject,
            level_max=max([row.level, *earlier.get(row.id, ())], key=LEVEL_RANK.__getitem__),
            state=row.state,
            started_at=row.started_at,
            resolved_at=row.resolved_at,
            acked_by=row.acked_by,
            summary=row.summary,
            province=row.province,
            carrier=row.carrier,
        )
        for row in rows
    ]


async def _earlier_levels(session: AsyncSession, alert_ids: Sequence[str]) -> dict[str, set[str]]:
    """The levels each alert held before a change of level (from its history)."""
    levels: dict[str, set[str]] = {}
    for first in range(0, len(alert_ids), 500):  # bounded IN lists
        query = select(AlertEventRow.alert_id, AlertEventRow.previous_level).where(
            AlertEventRow.alert_id.in_(alert_ids[first : first + 500]),
            AlertEventRow.previous_level.is_not(None),
        )
        for alert_id, level in await session.execute(query):
            if level in LEVEL_RANK:
                levels.setdefault(alert_id, set()).add(level)
    return levels
