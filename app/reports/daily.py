"""Gather a day's report from the store: the hourly rows of the day (and of the day before, for
the change), the rows this process has not written yet, and the alerts of the day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from alerts.measures_out import MitigationOut, WarningOut
from alerts.store.incidents import list_incidents
from alerts.store.mitigations import list_mitigations
from alerts.store.reports import DayAlert, alerts_between, hours_between
from alerts.store.warnings import list_warnings
from app.api.models.incidents import IncidentOut, incident_out
from app.reports.model import (
    AlertOfDay,
    DailyReport,
    DayChangeOut,
    HourOut,
    HubOfDay,
    SilentHub,
)
from core.reports import day_bounds, day_change, day_report, merge_hours
from storage.db import Database


async def gather(
    db: Database,
    *,
    day: date,
    province: str | None,
    carrier: str | None,
    silent_after_s: float,
    pending: pl.DataFrame | None = None,
) -> DailyReport:
    """The report of ``day`` (Beijing time) for the nation or ``province``; ``carrier`` (a
    carrier's reader) narrows every number to that carrier's hubs. ``pending``: hourly rows
    held by this process and not stored yet (``app.reports.recorder``)."""
    start, end = day_bounds(day)
    async with db.sessionmaker() as session:
        rows = await hours_between(
            session, start - timedelta(days=1), end, province=province, carrier=carrier
        )
        alerts = await alerts_between(session, start, end, province=province, carrier=carrier)
        context = await _context(session, start, end, province=province, carrier=carrier)
    if pending is not None and pending.height:
        if province is not None:
            pending = pending.filter(pl.col("province") == province)
        if carrier is not None:
            pending = pending.filter(pl.col("carrier") == carrier)
        rows = merge_hours(pl.concat([rows, pending]))
    today = day_report(rows, day=day, silent_after_s=silent_after_s)
    before = day_report(rows, day=day - timedelta(days=1), silent_after_s=silent_after_s)
    change = day_change(today, before)
    return DailyReport(
        date=day,
        province=province,
        carrier=carrier,
        arrivals_total=today.arrivals_total,
        departures_total=today.departures_total,
        backlog_at_end=today.backlog_at_end,
        backlog_max=today.backlog_max,
        peak_hour=today.peak_hour,
        hourly=[HourOut.model_validate(row) for row in today.hourly.to_dicts()],
        levels_worst=today.levels_worst,
        alerts=[_alert(alert) for alert in alerts],
        incidents=context.incidents,
        mitigations=context.mitigations
        if province is None
        else [m for m in context.mitigations if m.hub_id in set(rows["hub_id"].to_list())],
        warnings=context.warnings,
        silent_hubs=[SilentHub.model_validate(row) for row in today.silent.to_dicts()],
        hubs=_hubs(today.hubs),
        closest_to_overflow=_hubs(today.closest),
        previous_day=None if change is None else DayChangeOut.model_validate(change.__dict__),
    )


@dataclass(frozen=True)
class _Context:
    incidents: list[IncidentOut]
    mitigations: list[MitigationOut]  # of the reader's carrier; narrowed to the report's hubs
    warnings: list[WarningOut]


async def _context(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    province: str | None,
    carrier: str | None,
) -> _Context:
    """The incidents open, the measures in force and the warnings valid at some time of the
    day; a carrier's reader gets its own hubs' incidents and measures (warnings are public)."""
    incidents = [
        incident
        for incident in await list_incidents(session, carrier=carrier, limit=1000)
        if incident.opened_at < end
        and (incident.resolved_at is None or incident.resolved_at >= start)
        and (province is None or incident.province == province)
    ]
    measures = await list_mitigations(session, carrier=carrier, since=start, until=end)
    warnings = [
        warning
        for warning in await list_warnings(session, province=province, limit=1000)
        if warning.valid_from < end and warning.valid_to > start
    ]
    wall_now = datetime.now(UTC)
    return _Context(
        incidents=[incident_out(i, wall_now) for i in reversed(incidents)],
        mitigations=[MitigationOut.of(m) for m in reversed(measures)],
        warnings=[WarningOut.of(w) for w in reversed(warnings)],
    )


def _hubs(frame: pl.DataFrame) -> list[HubOfDay]:
    return [
        HubOfDay.model_validate(row) for row in frame.rename({"level": "level_worst"}).to_dicts()
    ]


def _alert(alert: DayAlert) -> AlertOfDay:
    resolved = alert.resolved_at
    return AlertOfDay(
        id=alert.id,
        rule=alert.rule,
        scope=alert.scope,
        subject=alert.subject,
        level_max=alert.level_max,
        started_at=alert.started_at,
        resolved_at=resolved,
        duration_s=None if resolved is None else (resolved - alert.started_at).total_seconds(),
        acked_by=alert.acked_by,
        summary=alert.summary,
    )
