"""The hub registry and each hub's current state.

Carrier keys see and change only their own hubs; the rules of a change (namespaces, ``key_node``,
capacities) are ``core.registration`` and ``core.registry.HubRegistration``. Every change is
stored with who, when, before and after (``alerts.store.registry``), read back by regulators
through ``GET /v1/hubs/{hub_id}/history``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import polars as pl
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError

from alerts.store.registry import get_hub_row, hub_history, put_hub_row
from app.api.deps import Principal, PrincipalDep, require_roles
from app.api.models.hubs import HubDetail, HubPage, HubState
from app.api.problems import problems
from app.runtime import Runtime, RuntimeDep
from core.engine import hub_series
from core.levels import Level
from core.registration import RegistrationRefusedError, accept_change
from core.registry import HubRegistration, HubSpec
from core.state import BUCKET_SCHEMA
from storage.db import Database

router = APIRouter(prefix="/v1", tags=["hubs"])

HubWriterDep = Annotated[Principal, Depends(require_roles("carrier", "regulator", "admin"))]
RegistryReaderDep = Annotated[Principal, Depends(require_roles("regulator", "admin"))]


def get_database(request: Request) -> Database:
    """The service database (set by the app's lifespan): registry rows and their history."""
    database: Database = request.app.state.db
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]


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
) -> HubPage:
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
    hubs = [HubState.model_validate(row) for row in page.to_dicts()]
    return HubPage(total=frame.height, limit=limit, offset=offset, hubs=hubs)


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
) -> HubDetail:
    """One hub's state and its per-minute series."""
    snapshot = runtime.snapshot  # one immutable view: state and series of the same step
    rows = _visible(snapshot.hub_states, principal).filter(pl.col("hub_id") == hub_id)
    if rows.height == 0:
        raise HTTPException(status_code=404, detail=f"no hub {hub_id}")
    detail = rows.to_dicts()[0]
    buckets = snapshot.buckets
    series = (
        hub_series(buckets, snapshot.hub_states, hub_id, minutes=minutes)
        if buckets is not None
        else hub_series(pl.DataFrame(schema=BUCKET_SCHEMA), snapshot.hub_states, hub_id)
    )
    return HubDetail.model_validate({**detail, "series": series.to_dicts()})


class RegistryChangeOut(BaseModel):
    """One recorded change of a hub's registry entry."""

    id: int = Field(description="orders every change of every hub")
    hub_id: str
    at: datetime = Field(description="when the change was made (wall clock, RFC 3339)")
    by: str = Field(description="who made it, e.g. carrier:ZTO or regulator:<key id>")
    role: str
    key_id: str = Field(description="id of the API key used")
    before: HubSpec | None = Field(description="the entry before; null when the hub was new")
    after: HubSpec


class HubHistory(BaseModel):
    """A hub's registry changes, newest first."""

    hub_id: str
    changes: list[RegistryChangeOut]


def _registered(runtime: Runtime, hub_id: str) -> HubSpec | None:
    rows = runtime.registry.filter(pl.col("hub_id") == hub_id)
    return HubSpec.model_validate(rows.row(0, named=True)) if rows.height else None


@router.put(
    "/hubs/{hub_id}",
    response_model=HubSpec,
    responses=problems(
        400,
        403,
        409,
        s400="hub_id in the body differs from the path",
        s403="not your carrier's hub, not in your namespace, or key_node (the regulator's)",
        s409="another change of this hub was stored at the same time; send it again",
    ),
)
async def put_hub(
    hub_id: str,
    hub: HubRegistration,
    principal: HubWriterDep,
    runtime: RuntimeDep,
    database: DatabaseDep,
) -> HubSpec:
    """Register a hub or change its entry; the change is recorded (who, when, before, after).

    Carriers: their own hubs, new ids under ``<CODE>-``, ``key_node`` left as the regulator set
    it. The regulator and admins: any hub, any field. Capacities must be > 0.
    """
    if hub.hub_id != hub_id:
        raise HTTPException(status_code=400, detail="hub_id in the body must match the path")
    carrier = principal.carrier if principal.role == "carrier" else None
    try:
        async with database.sessionmaker.begin() as session:
            stored = await get_hub_row(session, hub_id, for_update=True)
            from_file = _registered(runtime, hub_id) if stored is None else None
            accepted = accept_change(
                hub, current=stored or from_file, sent=hub.model_fields_set, carrier=carrier
            )
            await put_hub_row(session, accepted, principal, datetime.now(UTC), previous=from_file)
    except RegistrationRefusedError as refused:
        raise HTTPException(status_code=403, detail=str(refused)) from refused
    except IntegrityError as error:
        raise HTTPException(
            status_code=409, detail=f"hub {hub_id} was changed at the same time; send it again"
        ) from error
    await runtime.put_hub(accepted)
    return accepted


@router.get(
    "/hubs/{hub_id}/history",
    response_model=HubHistory,
    responses=problems(403, 404, s403="regulators and admins only", s404="no such hub"),
)
async def get_hub_history(
    hub_id: str,
    principal: RegistryReaderDep,
    runtime: RuntimeDep,
    database: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="page back: ids below this")
    ] = None,
) -> HubHistory:
    """Who changed the hub's registry entry, when, and from what to what; newest first."""
    async with database.sessionmaker() as session:
        changes = await hub_history(session, hub_id, limit=limit, before_id=before_id)
    if not changes and before_id is None and _registered(runtime, hub_id) is None:
        raise HTTPException(status_code=404, detail=f"no hub {hub_id}")
    return HubHistory(
        hub_id=hub_id,
        changes=[
            RegistryChangeOut(
                id=change.id,
                hub_id=change.hub_id,
                at=change.at,
                by=change.actor,
                role=change.actor_role,
                key_id=change.actor_key_id,
                before=change.before,
                after=change.after,
            )
            for change in changes
        ],
    )
