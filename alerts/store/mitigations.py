"""Courier mitigations in the store: one row per declared measure (table ``mitigations``).

    async with db.sessionmaker.begin() as session:
        mitigation = await add_mitigation(session, NewMitigation(...), declared_by=…, wall_now=…)
        ended = await end_mitigation(session, mitigation.id, ended_at=…, by=…, effect=…)
    found = await list_mitigations(session, carrier="ZTO", hub_ids=["ZTO-HZ01"])
    samples = await hub_samples(session, "ZTO-HZ01", since=…, until=…)  # from the alert history

Which hub belongs to which carrier is the registry's business (the route checks it first);
every query here can be narrowed to one carrier so a carrier never reads a competitor's row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from alerts.measures import (
    Mitigation,
    MitigationEffect,
    MitigationKind,
    Sample,
    mitigations_for,
    warnings_for,
)
from alerts.notify.base import NotificationItem
from alerts.store.models import AlertEventRow, AlertRow
from alerts.store.rows import from_row
from alerts.store.warnings import warnings_for_provinces
from storage.base import Base, BigId


class MitigationRow(Base):
    """A measure declared by a carrier for one of its hubs (times: aware UTC)."""

    __tablename__ = "mitigations"
    __table_args__ = (Index("ix_mitigations_hub_id_starts_at", "hub_id", "starts_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    carrier: Mapped[str] = mapped_column(String(32))
    hub_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime]
    planned_end_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    expected_effect: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    declared_by: Mapped[str] = mapped_column(String(128))
    declared_at: Mapped[datetime]
    ended_by: Mapped[str | None] = mapped_column(String(128))
    effect: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


@dataclass(frozen=True)
class NewMitigation:
    """What a carrier declares (already validated by the API model)."""

    hub_id: str
    carrier: str
    kind: MitigationKind
    starts_at: datetime
    planned_end_at: datetime
    expected_effect: str
    note: str


def _mitigation(row: MitigationRow) -> Mitigation:
    effect = None if row.effect is None else MitigationEffect(**row.effect)
    return from_row(Mitigation, row, effect=effect)


async def add_mitigation(
    session: AsyncSession, new: NewMitigation, *, declared_by: str, wall_now: datetime
) -> Mitigation:
    """Store a declared measure; the stored measure (with its new id)."""
    row = MitigationRow(
        **asdict(new),
        ended_at=None,
        declared_by=declared_by,
        declared_at=wall_now,
        ended_by=None,
        effect=None,
    )
    session.add(row)
    await session.flush()
    return _mitigation(row)


async def get_mitigation(
    session: AsyncSession, mitigation_id: int, *, carrier: str | None = None
) -> Mitigation | None:
    """One measure, or None when there is none (or, with ``carrier``, it is another's)."""
    row = await session.get(MitigationRow, mitigation_id)
    if row is None or (carrier is not None and row.carrier != carrier):
        return None
    return _mitigation(row)


async def end_mitigation(
    session: AsyncSession,
    mitigation_id: int,
    *,
    ended_at: datetime,
    by: str,
    effect: MitigationEffect,
) -> Mitigation | None:
    """Record the end of a measure and its effect; None when there is no such measure."""
    row = await session.get(MitigationRow, mitigation_id, with_for_update=True)
    if row is None:
        return None
    row.ended_at, row.ended_by, row.effect = ended_at, by, asdict(effect)
    await session.flush()
    return _mitigation(row)


async def list_mitigations(
    session: AsyncSession,
    *,
    carrier: str | None = None,
    hub_ids: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
) -> list[Mitigation]:
    """Measures newest first; ``hub_ids`` narrows to those hubs, ``since``/``until`` to measures
    in force at some time of the range — until ended, or until their planned end while not
    ended (one query, however many hubs)."""
    query = select(MitigationRow)
    if carrier is not None:
        query = query.where(MitigationRow.carrier == carrier)
    if hub_ids is not None:
        query = query.where(MitigationRow.hub_id.in_(list(hub_ids)))
    if since is not None:
        in_force_until = func.coalesce(MitigationRow.ended_at, MitigationRow.planned_end_at)
        query = query.where(in_force_until > since)
    if until is not None:
        query = query.where(MitigationRow.starts_at < until)
    query = query.order_by(MitigationRow.starts_at.desc(), MitigationRow.id).limit(limit)
    return [_mitigation(row) for row in await session.scalars(query)]


async def hub_samples(
    session: AsyncSession, hub_id: str, *, since: datetime, until: datetime, limit: int = 2000
) -> list[Sample]:
    """Net inflow and time to overflow of ``hub_id`` at every change its alerts recorded
    between ``since`` and ``until`` (event time), oldest first."""
    query = (
        select(AlertEventRow.at, AlertEventRow.alert_json)
        .join(AlertRow, AlertRow.id == AlertEventRow.alert_id)
        .where(
            AlertRow.hub_id == hub_id,
            AlertRow.scope == "hub",
            AlertEventRow.at >= since,
            AlertEventRow.at <= until,
        )
        .order_by(AlertEventRow.at, AlertEventRow.id)
        .limit(limit)
    )
    samples = []
    for at, alert_json in (await session.execute(query)).all():
        values = alert_json.get("values") or {}
        samples.append(
            Sample(
                at=at,
                net_inflow_per_min=values.get("net_inflow_per_min"),
                time_to_overflow_s=values.get("time_to_overflow_s"),
            )
        )
    return samples


async def with_measures(
    session: AsyncSession, items: Sequence[NotificationItem]
) -> list[NotificationItem]:
    """``items`` with the measures of their hubs and the warnings of their provinces that apply
    to each alert (two queries for the whole batch), so the message shows them. City warnings
    need the hub's city, which the outbox does not hold: messages show province warnings."""
    alerts = [item.alert for item in items]
    hub_ids = sorted({a.hub_id for a in alerts if a.scope == "hub" and a.hub_id})
    since = min((a.started_at for a in alerts), default=None)
    measures = await list_mitigations(session, hub_ids=hub_ids, since=since) if hub_ids else []
    warnings = await warnings_for_provinces(session, {a.province for a in alerts if a.province})
    if not measures and not warnings:
        return list(items)
    return [
        replace(
            item,
            mitigations=tuple(mitigations_for(item.alert, measures)),
            warnings=tuple(warnings_for(item.alert, warnings)),
        )
        for item in items
    ]
