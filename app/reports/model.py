"""The daily report as the API returns it (``GET /v1/reports/daily``). Counts are parcels;
times are RFC 3339 (UTC) except ``hour`` and ``peak_hour``, which are Beijing time (+08:00)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from alerts.measures_out import MitigationOut, WarningOut
from app.api.models.incidents import IncidentOut


class HourOut(BaseModel):
    """One hour of the day, Beijing time."""

    hour: str = Field(description="HH:00, +08:00")
    arrivals: int
    departures: int
    backlog: int = Field(description="backlog at the hour's end, all hubs of the report")


class AlertOfDay(BaseModel):
    """An alert active at some time of the day."""

    id: str
    rule: str
    scope: str
    subject: str
    level_max: str = Field(description="the worst level it reached")
    started_at: datetime
    resolved_at: datetime | None
    duration_s: float | None = Field(description="from start to resolution; None while active")
    acked_by: str | None
    summary: str


class HubOfDay(BaseModel):
    """One hub's day."""

    hub_id: str
    carrier: str
    province: str
    arrivals: int
    departures: int
    backlog_end: int = Field(description="backlog at 24:00 (or as last seen that day)")
    backlog_max: int
    storage_capacity: int
    utilization_max: float = Field(description="backlog_max / storage_capacity")
    level_worst: str
    silent_s: float = Field(description="its longest silence of the day")


class SilentHub(BaseModel):
    """A data gap: a hub silent for at least the hub_silent rule's yellow threshold."""

    hub_id: str
    silent_s: float


class DayChangeOut(BaseModel):
    """The day before, where the store holds it, and the change against it in per cent."""

    arrivals_total: int
    departures_total: int
    backlog_at_end: int
    arrivals_change_pct: float | None
    departures_change_pct: float | None


class DailyReport(BaseModel):
    """一日一报: the nation's (``province`` null) or one province's day, 00:00–24:00 +08:00."""

    date: date
    province: str | None
    carrier: str | None = Field(description="set when the reader is a carrier: its hubs only")
    arrivals_total: int
    departures_total: int
    backlog_at_end: int
    backlog_max: int = Field(description="the largest backlog at an hour's end")
    peak_hour: str | None = Field(description="HH:00 (+08:00) of the most arrivals")
    hourly: list[HourOut]
    levels_worst: dict[str, int] = Field(description="hubs per worst level of the day")
    alerts: list[AlertOfDay]
    incidents: list[IncidentOut] = Field(description="incidents open at some time of the day")
    mitigations: list[MitigationOut] = Field(description="couriers' measures in force that day")
    warnings: list[WarningOut] = Field(description="external warnings valid that day")
    silent_hubs: list[SilentHub]
    hubs: list[HubOfDay]
    closest_to_overflow: list[HubOfDay]
    previous_day: DayChangeOut | None
