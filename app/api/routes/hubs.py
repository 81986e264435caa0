"""The hub registry and each hub's current state.

Carrier keys see and change only their own hubs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import Principal, PrincipalDep, require_roles
from app.api.problems import problems
from app.runtime import RuntimeDep
from core.levels import Level
from core.registry import HubSpec

router = APIRouter(prefix="/v1", tags=["hubs"])

HubWriterDep = Annotated[Principal, Depends(require_roles("carrier", "admin"))]


class HubState(BaseModel):
    """A hub's registry entry and its state at the watermark."""

    model_config = ConfigDict(extra="allow")

    hub_id: str
    carrier: str
    name: str
    province: str
    city: str
    lat: float
    lon: float
    tier: str
    key_node: bool
    storage_capacity: int
    sort_capacity_per_hour: int
    arrivals_total: int = Field(description="parcels arrived since the service first saw the hub")
    departures_total: int
    backlog: float | None = Field(description="parcels on hand")
    utilization: float | None = Field(description="backlog / storage_capacity")
    arrival_rate_per_min: float | None
    departure_rate_per_min: float | None
    time_to_overflow_s: float | None = Field(description="null when net inflow ≤ 0")
    level: Level
    last_event_at: datetime | None


class SeriesPoint(BaseModel):
    """One minute of a hub's history."""

    model_config = ConfigDict(extra="allow")

    minute: datetime
    arrivals: int
    departures: int


class HubDetail(HubState):
    """A hub's state plus its per-minute series over recent hours."""

    series: list[SeriesPoint] = Field(
        description="per minute, oldest first; empty when another replica owns the hub"
    )


class HubPage(BaseModel):
    """One page of hubs."""

    total: int
    limit: int
    offset: int
    hubs: list[HubState]


def _visible(frame: pl.DataFrame, principal: Principal) -> pl.DataFrame:
    if principal.role == "carrier":
        return frame.filter(pl.col("carrier") == principal.carrier)
    return frame


@router.get("/hubs", response_model=HubPage)
async def list_hubs(
    principal: PrincipalDep,
    runtime: RuntimeDep,
    province: str | None = None,
    carrier: str | None = None,
    level: Level | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    """Hubs with their state, worst first (level, then time to overflow)."""
    frame = _visible(runtime.snapshot.hub_states, principal)
    if province is not None:
        frame = frame.filter(pl.col("province") == province)
    if carrier is not None:
        frame = frame.filter(pl.col("carrier") == carrier)
    if level is not None:
        frame = frame.filter(pl.col("level") == level)
    frame = frame.sort(
        ["level", "time_to_overflow_s", "hub_id"], descending=[True, False, False], nulls_last=True
    )
    page = frame.slice(offset, limit)
    return {"total": frame.height, "limit": limit, "offset": offset, "hubs": page.to_dicts()}


@router.get(
    "/hubs/{hub_id}",
    response_model=HubDetail,
    responses=problems(404, s404="no such hub (or not yours)"),
)
async def get_hub(
    hub_id: str,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    minutes: Annotated[int, Query(ge=1, le=24 * 60)] = 180,
) -> Any:
    """One hub's state and its per-minute series."""
    rows = _visible(runtime.snapshot.hub_states, principal).filter(pl.col("hub_id") == hub_id)
    if rows.height == 0:
        live = _visible(runtime.engine.hub_states(), principal).filter(pl.col("hub_id") == hub_id)
        if live.height == 0:
            raise HTTPException(status_code=404, detail=f"no hub {hub_id}")
        rows = live
    detail = rows.to_dicts()[0]
    detail["series"] = runtime.engine.hub_series(hub_id, minutes=minutes).to_dicts()
    return detail


@router.put(
    "/hubs/{hub_id}",
    response_model=HubSpec,
    responses=problems(
        400, 403, s400="hub_id in the body differs from the path", s403="not your carrier's hub"
    ),
)
async def put_hub(
    hub_id: str, hub: HubSpec, principal: HubWriterDep, runtime: RuntimeDep
) -> HubSpec:
    """Register a hub or change its entry (capacity, key-node flag, …)."""
    if hub.hub_id != hub_id:
        raise HTTPException(status_code=400, detail="hub_id in the body must match the path")
    if principal.role == "carrier":
        current_owner = runtime.hub_owners().get(hub_id)
        if hub.carrier != principal.carrier or current_owner not in (None, principal.carrier):
            raise HTTPException(status_code=403, detail="a carrier may only change its own hubs")
    await runtime.put_hub(hub)
    return hub
