"""Courier mitigations (处置措施): a carrier declares a measure for one of its hubs and ends it.

    POST /v1/mitigations             a carrier (its own hubs) or an admin (any hub) declares one
    GET  /v1/mitigations             regulators, on-call and admins read all; a carrier its own
    GET  /v1/mitigations/{id}
    POST /v1/mitigations/{id}/end    end it (early, or when it stopped); records its effect

A hub that is not the caller's answers exactly as a hub that does not exist (404 naming
``hub_id``), so a carrier learns nothing of its competitors' hubs. When a measure ends, its
effect compares the hub's net inflow and time to overflow when it began (the alert history's
numbers, or the hub's per-minute series) with those when it ended (the hub's state).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from starlette.datastructures import State

from alerts.measures import (
    MitigationKind,
    Sample,
    mitigation_effect,
    mitigations_for,
    series_samples,
    warnings_for,
)
from alerts.measures_out import MitigationOut
from alerts.model import Alert
from alerts.schemas import AlertOut
from alerts.store.mitigations import (
    NewMitigation,
    add_mitigation,
    end_mitigation,
    get_mitigation,
    hub_samples,
    list_mitigations,
)
from alerts.store.warnings import warnings_for_provinces
from app.api.deps import Principal, PrincipalDep, require_roles
from app.api.problems import field_error, problems
from app.api.routes.hubs import DatabaseDep
from app.runtime import Runtime, RuntimeDep
from core.engine import hub_series
from storage.db import Database

router = APIRouter(prefix="/v1", tags=["mitigations"])
DeclarerDep = Annotated[Principal, Depends(require_roles("carrier", "admin"))]
MitigationId = Annotated[int, Path(ge=1, le=2**63 - 1)]
LOOKBACK = timedelta(hours=6)
"""How far before a measure's start the alert history is read for the numbers it began with."""


EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC (no offset: UTC); ValueError outside 2000–2100."""
    try:
        value = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        value = LATEST
    if not EARLIEST <= value < LATEST:
        raise ValueError("must lie between 2000 and 2100")
    return value


def _utc_or_422(moment: datetime, field: str, where: str = "body") -> datetime:
    try:
        return _utc(moment)
    except ValueError as error:
        raise field_error(where, field, str(error)) from error


class MitigationIn(BaseModel):
    """A measure for one hub. A time without an offset is UTC."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "hub_id": "ZTO-HZ01",
                    "kind": "throttle",
                    "starts_at": "2025-11-11T20:00:00+08:00",
                    "planned_end_at": "2025-11-12T02:00:00+08:00",
                    "expected_effect": "进港量减少三成 / 30% fewer arrivals",
                    "note": "夜班限流，优先处理积压",
                }
            ]
        },
    )

    hub_id: Annotated[str, Field(min_length=1, max_length=64)]
    kind: MitigationKind = Field(
        description="throttle 限流, stop_intake 停收, extra_trucks 加开班车, "
        "temporary_site 临时场地, diversion 分流"
    )
    starts_at: datetime
    planned_end_at: datetime
    expected_effect: Annotated[str, Field(max_length=500)] = ""
    note: Annotated[str, Field(max_length=2000, description="free text")] = ""

    @field_validator("starts_at")
    @classmethod
    def _aware_start(cls, value: datetime) -> datetime:
        return _utc(value)

    @field_validator("hub_id", "expected_effect", "note")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value

    @field_validator("planned_end_at")
    @classmethod
    def _end_after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        value = _utc(value)
        starts_at = info.data.get("starts_at")
        if starts_at is not None and value <= starts_at:
            raise ValueError("must be after starts_at")
        return value


class MitigationEndIn(BaseModel):
    """When the measure ended (default: now)."""

    model_config = ConfigDict(extra="forbid")

    ended_at: datetime | None = None


def _hub(runtime: Runtime, hub_id: str) -> dict[str, Any] | None:
    rows = runtime.registry.filter(pl.col("hub_id") == hub_id)
    return rows.row(0, named=True) if rows.height else None


def _own_carrier(principal: Principal) -> str | None:
    """The carrier whose rows the caller may touch (None: every carrier's)."""
    return principal.carrier or "" if principal.role == "carrier" else None


@router.post(
    "/mitigations",
    status_code=status.HTTP_201_CREATED,
    response_model=MitigationOut,
    responses={
        **problems(
            403,
            404,
            s403="not a carrier or admin key",
            s404="hub_id: not one of the carrier's hubs (whether or not it exists)",
        ),
    },
)
async def declare_mitigation(
    body: MitigationIn, principal: DeclarerDep, runtime: RuntimeDep, database: DatabaseDep
) -> MitigationOut:
    """Declare a measure for one of your hubs; it shows on that hub's alerts from ``starts_at``."""
    hub = _hub(runtime, body.hub_id)
    carrier = _own_carrier(principal)
    if carrier is not None and (hub is None or hub["carrier"] != carrier):
        # the same answer for a competitor's hub as for none: nothing about it is revealed
        raise HTTPException(status_code=404, detail=f"hub_id: no hub {body.hub_id} of yours")
    if hub is None:
        raise field_error("body", "hub_id", f"no hub {body.hub_id}")
    new = NewMitigation(carrier=hub["carrier"], **body.model_dump())
    async with database.sessionmaker.begin() as session:
        made = await add_mitigation(
            session, new, declared_by=principal.name, wall_now=datetime.now(UTC)
        )
    return MitigationOut.of(made)


@router.get("/mitigations", response_model=list[MitigationOut])
async def read_mitigations(
    principal: PrincipalDep,
    database: DatabaseDep,
    hub_id: Annotated[list[str] | None, Query(max_length=500)] = None,
    active_at: Annotated[datetime | None, Query(description="in force at this time")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[MitigationOut]:
    """Measures, newest first. A carrier key reads its own carrier's only."""
    moment = None if active_at is None else _utc_or_422(active_at, "active_at", "query")
    if any("\x00" in hub for hub in hub_id or ()):
        raise field_error("query", "hub_id", "must not contain NUL characters")
    async with database.sessionmaker() as session:
        found = await list_mitigations(
            session,
            carrier=_own_carrier(principal),
            hub_ids=hub_id,
            since=moment,
            until=None if moment is None else moment + timedelta(microseconds=1),
            limit=limit,
        )
    return [MitigationOut.of(m) for m in found]


@router.get(
    "/mitigations/{mitigation_id}",
    response_model=MitigationOut,
    responses=problems(404, s404="no such measure (or not yours)"),
)
async def read_mitigation(
    mitigation_id: MitigationId, principal: PrincipalDep, database: DatabaseDep
) -> MitigationOut:
    """One measure."""
    async with database.sessionmaker() as session:
        found = await get_mitigation(session, mitigation_id, carrier=_own_carrier(principal))
    if found is None:
        raise HTTPException(status_code=404, detail=f"no measure {mitigation_id}")
    return MitigationOut.of(found)


def _state_samples(runtime: Runtime, hub_id: str, storage_capacity: int) -> list[Sample]:
    """The hub's per-minute series and its state at the watermark, as samples."""
    snapshot = runtime.snapshot
    samples: list[Sample] = []
    if snapshot.buckets is not None:
        series = hub_series(snapshot.buckets, snapshot.hub_states, hub_id, minutes=24 * 60)
        samples += series_samples(series.rows(), storage_capacity=storage_capacity)
    state = snapshot.hub_states.filter(pl.col("hub_id") == hub_id)
    if state.height and state["at"][0] is not None:
        row = state.row(0, named=True)
        samples.append(Sample(row["at"], row["net_inflow_per_min"], row["time_to_overflow_s"]))
    return samples


@router.post(
    "/mitigations/{mitigation_id}/end",
    response_model=MitigationOut,
    responses={
        **problems(404, 409, s404="no such measure (or not yours)", s409="already ended"),
    },
)
async def end_measure(
    mitigation_id: MitigationId,
    principal: DeclarerDep,
    runtime: RuntimeDep,
    database: DatabaseDep,
    body: MitigationEndIn | None = None,
) -> MitigationOut:
    """End a measure (``ended_at`` defaults to now) and record whether the hub's net inflow and
    time to overflow improved after it began."""
    ended_at = (
        _utc_or_422(body.ended_at, "ended_at") if body and body.ended_at else datetime.now(UTC)
    )
    async with database.sessionmaker.begin() as session:
        found = await get_mitigation(session, mitigation_id, carrier=_own_carrier(principal))
        if found is None:
            raise HTTPException(status_code=404, detail=f"no measure {mitigation_id}")
        if found.ended_at is not None:
            raise HTTPException(status_code=409, detail=f"measure {mitigation_id} already ended")
        if ended_at <= found.starts_at:
            raise field_error("body", "ended_at", "must be after starts_at")
        hub = _hub(runtime, found.hub_id)
        samples = await hub_samples(
            session, found.hub_id, since=found.starts_at - LOOKBACK, until=ended_at
        )
        if hub is not None:
            samples += _state_samples(runtime, found.hub_id, int(hub["storage_capacity"]))
        samples.sort(key=lambda sample: sample.at)
        effect = mitigation_effect(samples, starts_at=found.starts_at, ended_at=ended_at)
        ended = await end_mitigation(
            session, mitigation_id, ended_at=ended_at, by=principal.name, effect=effect
        )
    assert ended is not None  # read in this transaction, under its lock on PostgreSQL
    return MitigationOut.of(ended)


async def alert_outs(state: State, alerts: Sequence[Alert]) -> list[AlertOut]:
    """``alerts`` as JSON, each with the measures and warnings that apply to it: one query for
    the measures and one for the warnings of the whole page. An app without the service
    database (the alert routes alone, in their unit tests) shows the alerts by themselves."""
    database: Database | None = getattr(state, "db", None)
    runtime: Runtime | None = getattr(state, "runtime", None)
    if database is None or runtime is None:
        return [AlertOut.of(alert) for alert in alerts]
    registry = runtime.registry
    hub_ids = sorted({a.hub_id for a in alerts if a.scope == "hub" and a.hub_id})
    provinces = {a.province for a in alerts if a.province}
    since = min((a.started_at for a in alerts), default=None)
    async with database.sessionmaker() as session:
        measures = (
            await list_mitigations(session, hub_ids=hub_ids, since=since, limit=10_000)
            if hub_ids
            else []
        )
        warnings = await warnings_for_provinces(session, provinces)
    cities = dict(
        registry.filter(pl.col("hub_id").is_in(hub_ids)).select("hub_id", "city").iter_rows()
    )
    return [
        AlertOut.of(
            alert,
            mitigations=mitigations_for(alert, measures),
            warnings=warnings_for(alert, warnings, hub_city=cities.get(alert.hub_id or "")),
        )
        for alert in alerts
    ]
