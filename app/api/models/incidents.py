"""Incidents and their reports as the API answers them (``/v1/incidents``) and the daily report
lists them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from alerts.evaluation.incidents import IncidentState, ReportKind
from alerts.store.incidents import Incident, Report


class ReportOut(BaseModel):
    """One report of an incident: the draft the service wrote and what was submitted."""

    id: int
    kind: ReportKind = Field(description="first 首报 | follow_up 续报 | final 终报")
    at: datetime = Field(description="the transition it reports (event time)")
    due_at: datetime = Field(description="deadline (wall clock)")
    overdue: bool = Field(description="past due_at and not submitted")
    level: str
    draft_text: str = Field(description="Chinese draft, as to a superior")
    draft_text_en: str
    draft_fields: dict[str, Any] = Field(
        description="when, where, carrier and hub, values, effect, measures, handler"
    )
    text: str | None = Field(description="the submitted text (null until submitted)")
    fields: dict[str, Any] | None
    submitted_at: datetime | None
    submitted_by: str | None
    escalated_at: datetime | None = Field(description="when the overdue report was escalated")
    escalated_to: dict[str, Any] | None = Field(description="the leader on call it went to")


class IncidentOut(BaseModel):
    """An incident and its reports, oldest first."""

    id: str
    alert_id: str
    opened_at: datetime = Field(description="the step the alert reached the opening level")
    scope: str
    subject: str
    rule: str
    level: str
    state: IncidentState = Field(description="open | resolved (final report due) | closed")
    carrier: str | None
    province: str | None
    hub_id: str | None
    resolved_at: datetime | None
    reports: list[ReportOut]


def report_out(report: Report, wall_now: datetime) -> ReportOut:
    """A stored report, overdue as of the wall time ``wall_now``."""
    overdue = report.submitted_at is None and wall_now >= report.due_at
    return ReportOut(overdue=overdue, **{k: getattr(report, k) for k in REPORT_FIELDS})


REPORT_FIELDS = [name for name in ReportOut.model_fields if name != "overdue"]


def incident_out(incident: Incident, wall_now: datetime) -> IncidentOut:
    """A stored incident and its reports, as the API and the daily report show them."""
    reports = [report_out(r, wall_now) for r in incident.reports]
    names = [name for name in IncidentOut.model_fields if name != "reports"]
    return IncidentOut(reports=reports, **{name: getattr(incident, name) for name in names})
