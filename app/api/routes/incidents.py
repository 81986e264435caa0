"""Incidents (突发事件信息报告) and their reports: read, submit, and read an incident's history.

Incidents are opened by the alerting itself (``alerts.evaluation.incidents``); here the regulator
on duty completes a draft and submits it. A carrier key sees only its own hubs' incidents (never a
province or network one) and submits nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from alerts.duty import BEIJING
from alerts.evaluation.incidents import ReportKind
from alerts.notify.texts import level_name, rule_name
from alerts.store.incidents import Incident, Report, get_incident, list_incidents, submit_report
from app.api.deps import Principal, PrincipalDep, require_roles
from app.api.models.incidents import IncidentOut, incident_out
from app.api.problems import field_error, problems
from storage.db import Database

router = APIRouter(prefix="/v1", tags=["incidents"])

ReporterDep = Annotated[Principal, Depends(require_roles("regulator", "admin"))]
StateFilter = Literal["open", "resolved", "closed", "active", "all"]
_STATES: dict[str, tuple[str, ...]] = {
    "open": ("open",),
    "resolved": ("resolved",),
    "closed": ("closed",),
    "active": ("open", "resolved"),  # a report may still be due
    "all": (),
}


def _database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


DatabaseDep = Annotated[Database, Depends(_database)]


class IncidentList(BaseModel):
    """Incidents, newest first."""

    incidents: list[IncidentOut]


class ReportSubmission(BaseModel):
    """The regulator's completed report. Omitted parts keep the draft's."""

    model_config = ConfigDict(extra="forbid")

    report_id: int | None = Field(default=None, description="which report (default: see kind)")
    kind: ReportKind | None = Field(
        default=None, description="the oldest unsubmitted report of this kind (default: any)"
    )
    text: str | None = Field(default=None, min_length=1, max_length=20_000)
    fields: dict[str, Any] = Field(
        default_factory=dict, description="draft fields to replace, e.g. measures, city"
    )


class HistoryEntry(BaseModel):
    """One line of an incident's history."""

    at: datetime
    at_beijing: str = Field(description="YYYY-MM-DD HH:MM, +08:00")
    what: str = Field(description="Chinese")
    what_en: str
    by: str | None


class IncidentHistory(BaseModel):
    """What happened to an incident, in order."""

    incident_id: str
    entries: list[HistoryEntry]


async def _visible(db: Database, incident_id: str, principal: Principal) -> Incident:
    async with db.sessionmaker() as session:
        incident = await get_incident(session, incident_id)
    if incident is None or not _sees(principal, incident):
        raise HTTPException(status_code=404, detail=f"no incident {incident_id}")
    return incident


def _sees(principal: Principal, incident: Incident) -> bool:
    if principal.role != "carrier":
        return True
    return incident.scope == "hub" and incident.carrier == principal.carrier


@router.get("/incidents", response_model=IncidentList)
async def get_incidents(
    principal: PrincipalDep,
    db: DatabaseDep,
    state: Annotated[StateFilter, Query(description="default: every state")] = "all",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> IncidentList:
    """Incidents newest first with their reports (a carrier: its own hubs' incidents only)."""
    carrier = principal.carrier if principal.role == "carrier" else None
    if principal.role == "carrier" and not carrier:
        return IncidentList(incidents=[])
    async with db.sessionmaker() as session:
        found = await list_incidents(session, carrier=carrier, states=_STATES[state], limit=limit)
    wall_now = datetime.now(UTC)
    return IncidentList(incidents=[incident_out(i, wall_now) for i in found])


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentOut,
    responses=problems(404, s404="no such incident (or not yours)"),
)
async def get_one_incident(
    incident_id: str, principal: PrincipalDep, db: DatabaseDep
) -> IncidentOut:
    """One incident with its reports."""
    incident = await _visible(db, incident_id, principal)
    return incident_out(incident, datetime.now(UTC))


@router.post(
    "/incidents/{incident_id}/reports",
    response_model=IncidentOut,
    responses=problems(403, 404, 409, s409="that report is already submitted, or none is waiting"),
)
async def post_report(
    incident_id: str, body: ReportSubmission, principal: ReporterDep, db: DatabaseDep
) -> IncidentOut:
    """Complete and submit a report (regulator, admin); a submitted final report closes it."""
    incident = await _visible(db, incident_id, principal)
    report = _chosen(incident, body)
    unknown = sorted(set(body.fields) - set(report.draft_fields))
    if unknown:
        known = ", ".join(sorted(report.draft_fields))
        raise field_error("body", f"fields.{unknown[0]}", f"not a report field (known: {known})")
    wall_now = datetime.now(UTC)
    async with db.sessionmaker.begin() as session:
        await submit_report(
            session,
            report.id,
            text=body.text or report.draft_text,
            fields={**report.draft_fields, **body.fields},
            by=principal.name,
            wall_now=wall_now,
        )
    return incident_out(await _visible(db, incident_id, principal), wall_now)


def _chosen(incident: Incident, body: ReportSubmission) -> Report:
    if body.report_id is not None:
        matching = [r for r in incident.reports if r.id == body.report_id]
        if not matching:
            raise HTTPException(
                status_code=404,
                detail=f"report_id: incident {incident.id} has no report {body.report_id}",
            )
        if matching[0].submitted_at is not None:
            raise HTTPException(
                status_code=409, detail=f"report {body.report_id} is already submitted"
            )
        return matching[0]
    waiting = [
        r
        for r in incident.reports
        if r.submitted_at is None and (body.kind is None or r.kind == body.kind)
    ]
    if not waiting:
        what = f"{body.kind} report" if body.kind else "report"
        raise HTTPException(status_code=409, detail=f"no {what} of incident {incident.id} waits")
    return waiting[0]


@router.get(
    "/incidents/{incident_id}/history",
    response_model=IncidentHistory,
    responses=problems(404, s404="no such incident (or not yours)"),
)
async def get_history(
    incident_id: str, principal: PrincipalDep, db: DatabaseDep
) -> IncidentHistory:
    """The incident's story for a reviewer: opened, each report drafted, submitted or
    escalated, resolved, closed."""
    incident = await _visible(db, incident_id, principal)
    return IncidentHistory(incident_id=incident.id, entries=history(incident))


_KIND_ZH = {"first": "首报", "follow_up": "续报", "final": "终报"}
_KIND_EN = {"first": "first report", "follow_up": "follow-up", "final": "final report"}


def history(incident: Incident) -> list[HistoryEntry]:
    """Entries of an incident, in time order (steps are event time, the rest wall time)."""
    raw: list[tuple[datetime, str, str, str | None]] = [
        (
            incident.opened_at,
            f"{rule_name(incident.rule, 'zh')}预警立案",
            f"opened on {rule_name(incident.rule, 'en')}",
            None,
        )
    ]
    for r in incident.reports:
        zh, en = _KIND_ZH[r.kind], _KIND_EN[r.kind]
        raw.append(
            (
                r.at,
                f"生成{zh}草稿（{level_name(r.level, 'zh')}）",
                f"{en} drafted ({level_name(r.level, 'en')})",
                None,
            )
        )
        if r.escalated_at is not None:
            leader = (r.escalated_to or {}).get("person") or "无带班领导"
            raw.append(
                (
                    r.escalated_at,
                    f"{zh}逾期，已上报带班领导 {leader}",
                    f"{en} overdue, escalated to leader {leader}",
                    None,
                )
            )
        if r.submitted_at is not None:
            raw.append((r.submitted_at, f"{zh}已报送", f"{en} submitted", r.submitted_by))
    if incident.resolved_at is not None:
        raw.append((incident.resolved_at, "预警解除", "alert resolved", None))
    raw.sort(key=lambda entry: entry[0])
    return [
        HistoryEntry(
            at=at,
            at_beijing=at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"),
            what=what,
            what_en=what_en,
            by=by,
        )
        for at, what, what_en, by in raw
    ]
