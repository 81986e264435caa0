"""Incidents and their reports in the service database (made by migration 0006).

incidents          one per alert that opened one (its id is the alert's id); state open → resolved
                   (the alert ended; the final report is due) → closed (the final report is in)
incident_reports   the first report, follow-ups and the final report: the draft, when it is due,
                   who submitted what and when, and whom an overdue report was escalated to

    async with db.sessionmaker.begin() as session:                  # in the tick's transaction
        await record_changes(session, changes, config=config, wall_now=now)
    incidents = await list_incidents(session, carrier="ZTO")         # a carrier: its hubs only

Reports are unique per (incident, kind, step), so a decision taken twice (replay, restart, two
replicas) is stored once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, Index, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from alerts.config import AlertingConfig
from alerts.delivery import route
from alerts.duty import Shift, on_duty
from alerts.evaluation.incidents import (
    IncidentConfig,
    IncidentDecision,
    IncidentState,
    OpenIncident,
    ReportKind,
    decide,
)
from alerts.model import AlertChange
from alerts.store import repository
from alerts.store.duty import shifts_between
from alerts.store.outbox import NewNotification, enqueue
from alerts.store.rows import from_row
from storage.base import Base, BigId


class IncidentRow(Base):
    """One incident (see ``alerts.evaluation.incidents``); times are event time."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_state_opened_at", "state", "opened_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(32), unique=True)
    opened_at: Mapped[datetime]
    scope: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(128))
    rule: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(10))
    carrier: Mapped[str | None] = mapped_column(String(32))
    province: Mapped[str | None] = mapped_column(String(64))
    hub_id: Mapped[str | None] = mapped_column(String(128))
    resolved_at: Mapped[datetime | None]


class IncidentReportRow(Base):
    """One report of an incident: ``at`` and ``due_at`` event time, the rest wall time."""

    __tablename__ = "incident_reports"
    __table_args__ = (
        Index("uq_incident_reports_key", "incident_id", "kind", "at", unique=True),
        Index("ix_incident_reports_due", "submitted_at", "escalated_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime]
    due_at: Mapped[datetime]
    level: Mapped[str] = mapped_column(String(8))
    draft_text: Mapped[str] = mapped_column(Text)
    draft_text_en: Mapped[str] = mapped_column(Text)
    draft_fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    text: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    submitted_at: Mapped[datetime | None]
    submitted_by: Mapped[str | None] = mapped_column(String(128))
    escalated_at: Mapped[datetime | None]
    escalated_to: Mapped[dict[str, Any] | None] = mapped_column(JSON)


@dataclass(frozen=True, slots=True)
class Report:
    """A stored report (``GET /v1/incidents`` shows these)."""

    id: int
    kind: ReportKind
    at: datetime
    due_at: datetime
    level: str
    draft_text: str
    draft_text_en: str
    draft_fields: dict[str, Any]
    text: str | None
    fields: dict[str, Any] | None
    submitted_at: datetime | None
    submitted_by: str | None
    escalated_at: datetime | None
    escalated_to: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Incident:
    """A stored incident and its reports, oldest first."""

    id: str
    alert_id: str
    opened_at: datetime
    scope: str
    subject: str
    rule: str
    level: str
    state: IncidentState
    carrier: str | None
    province: str | None
    hub_id: str | None
    resolved_at: datetime | None
    reports: list[Report] = field(default_factory=list)


def _incident(row: IncidentRow, reports: Sequence[IncidentReportRow]) -> Incident:
    return from_row(Incident, row, reports=[from_row(Report, r) for r in reports])


async def record_changes(
    session: AsyncSession,
    changes: Sequence[AlertChange],
    *,
    config: IncidentConfig,
    wall_now: datetime,
) -> list[IncidentDecision]:
    """Open, follow and resolve incidents on one step's alert changes (in the caller's
    transaction); the decisions stored."""
    lifecycle = [c for c in changes if c.kind in ("firing", "level_changed", "resolved")]
    if not lifecycle:
        return []
    ids = {c.alert.id for c in lifecycle}
    rows = await session.scalars(select(IncidentRow).where(IncidentRow.alert_id.in_(ids)))
    known = {r.alert_id: OpenIncident(r.id, r.level, cast(IncidentState, r.state)) for r in rows}
    if not known and not any(config.opens(c.alert.rule, c.alert.level) for c in lifecycle):
        return []  # most steps: nothing opens, nothing open moves
    times = [c.at for c in lifecycle]
    roster = await shifts_between(session, min(times), max(times))
    decisions = decide(lifecycle, known, roster=roster, config=config, now=wall_now)
    for decision in decisions:
        await _store(session, decision)
    return decisions


async def _store(session: AsyncSession, decision: IncidentDecision) -> None:
    row = await session.get(IncidentRow, decision.incident_id)
    if row is None:
        row = IncidentRow(
            id=decision.incident_id,
            alert_id=decision.alert_id,
            opened_at=decision.at,
            scope=decision.scope,
            subject=decision.subject,
            rule=decision.rule,
            carrier=decision.carrier,
            province=decision.province,
            hub_id=decision.hub_id,
        )
        session.add(row)
    row.level, row.state = decision.level, decision.state
    if decision.state == "resolved":
        row.resolved_at = decision.at
    report = decision.report
    exists = await session.scalar(
        select(IncidentReportRow.id).where(
            IncidentReportRow.incident_id == report.incident_id,
            IncidentReportRow.kind == report.kind,
            IncidentReportRow.at == report.at,
        )
    )
    if exists is None:
        session.add(
            IncidentReportRow(
                incident_id=report.incident_id,
                kind=report.kind,
                at=report.at,
                due_at=report.due_at,
                level=decision.level,
                draft_text=report.text,
                draft_text_en=report.text_en,
                draft_fields=report.fields,
            )
        )
    await session.flush()


async def list_incidents(
    session: AsyncSession,
    *,
    carrier: str | None = None,
    states: Sequence[str] = (),
    limit: int = 200,
) -> list[Incident]:
    """Incidents newest first, with their reports. ``carrier``: only that carrier's hub
    incidents (a carrier never sees province or network incidents, nor a competitor's)."""
    query = select(IncidentRow)
    if carrier is not None:
        query = query.where(IncidentRow.scope == "hub", IncidentRow.carrier == carrier)
    if states:
        query = query.where(IncidentRow.state.in_(states))
    rows = list(await session.scalars(query.order_by(IncidentRow.opened_at.desc()).limit(limit)))
    reports = await session.scalars(
        select(IncidentReportRow)
        .where(IncidentReportRow.incident_id.in_([r.id for r in rows]))
        .order_by(IncidentReportRow.at, IncidentReportRow.id)
    )
    by_incident: dict[str, list[IncidentReportRow]] = {}
    for report in reports:
        by_incident.setdefault(report.incident_id, []).append(report)
    return [_incident(row, by_incident.get(row.id, [])) for row in rows]


async def get_incident(session: AsyncSession, incident_id: str) -> Incident | None:
    """One incident with its reports, or None."""
    row = await session.get(IncidentRow, incident_id)
    if row is None:
        return None
    reports = await session.scalars(
        select(IncidentReportRow)
        .where(IncidentReportRow.incident_id == incident_id)
        .order_by(IncidentReportRow.at, IncidentReportRow.id)
    )
    return _incident(row, list(reports))


async def submit_report(
    session: AsyncSession,
    report_id: int,
    *,
    text: str,
    fields: dict[str, Any],
    by: str,
    wall_now: datetime,
) -> None:
    """Store the submitted text and fields of a report; a submitted final report closes the
    incident. (The caller checks that the report exists and is not yet submitted.)"""
    row = await session.get(IncidentReportRow, report_id, with_for_update=True)
    if row is None:
        raise LookupError(f"no report {report_id}")
    row.text, row.fields, row.submitted_at, row.submitted_by = text, fields, wall_now, by
    if row.kind == "final":
        await session.execute(
            update(IncidentRow).where(IncidentRow.id == row.incident_id).values(state="closed")
        )
    await session.flush()


async def overdue_reports(
    session: AsyncSession, *, wall_now: datetime, limit: int = 100
) -> list[tuple[Incident, Report]]:
    """Reports past their deadline, neither submitted nor escalated, oldest deadline first."""
    rows = await session.scalars(
        select(IncidentReportRow)
        .where(
            IncidentReportRow.submitted_at.is_(None),
            IncidentReportRow.escalated_at.is_(None),
            IncidentReportRow.due_at <= wall_now,
        )
        .order_by(IncidentReportRow.due_at, IncidentReportRow.id)
        .limit(limit)
    )
    found = []
    for row in rows:
        incident = await session.get(IncidentRow, row.incident_id)
        if incident is not None:
            found.append((_incident(incident, []), from_row(Report, row)))
    return found


async def mark_escalated(
    session: AsyncSession, report_id: int, *, to: dict[str, Any], wall_now: datetime
) -> bool:
    """Record that an overdue report was escalated to ``to``; False when another pass (or
    replica) already did, so each report is escalated exactly once."""
    result = await session.execute(
        update(IncidentReportRow)
        .where(IncidentReportRow.id == report_id, IncidentReportRow.escalated_at.is_(None))
        .values(escalated_at=wall_now, escalated_to=to)
    )
    return bool(getattr(result, "rowcount", 0))


def leader_contact(shift: Shift | None) -> dict[str, Any]:
    """What is kept of the leader an overdue report went to (``person`` None: nobody on call)."""
    if shift is None:
        return {"person": None, "role": "leader"}
    return shift.model_dump(mode="json", exclude={"handover_note"})


async def escalate_overdue(
    session: AsyncSession, config: AlertingConfig, *, wall_now: datetime
) -> list[AlertChange]:
    """Escalate each report past its deadline, once: to the leader on call for its province
    (else the national one), recorded on the report and in the alert's history, and sent to the
    receivers of the alert's escalation steps. Returns the history entries stored."""
    notifications: list[NewNotification] = []
    changes: list[AlertChange] = []
    due = await overdue_reports(session, wall_now=wall_now)
    if not due:
        return []  # every second, most often: one indexed query
    roster = await shifts_between(session, wall_now, wall_now)
    for incident, report in due:
        leader = on_duty(roster, incident.province, wall_now, role="leader")
        to = leader_contact(leader)
        if not await mark_escalated(session, report.id, to=to, wall_now=wall_now):
            continue
        alert = await repository.get_alert(session, incident.alert_id)
        if alert is None:
            continue
        steps = route.escalations(alert.labels(), config.routes)
        receivers = dict.fromkeys(r for step in steps for r in step.receivers)
        notifications.extend(
            NewNotification(
                alert=alert,
                kind="escalation",
                receiver=receiver,
                group_key=f"incident-report|{report.id}",
                group_wait_s=0.0,
                group_interval_s=0.0,
                dedup_key=f"incident-report:{report.id}:{receiver}",
            )
            for receiver in receivers
        )
        who = to["person"] or "nobody on call"
        actor = f"incident {report.kind} report overdue → leader {who}"
        changes.append(AlertChange(kind="escalated", alert=alert, at=wall_now, actor=actor))
    await enqueue(session, notifications, wall_now=wall_now)
    return await repository.record_changes(session, changes, wall_now=wall_now)
