"""Weather and other external warnings (预警信息) per province or city: ``/v1/warnings``.

Regulators and admins (or an integration key with one of those roles) record them; every key
reads them, as they are public information. Alerts of hubs in a warned area carry the warnings
valid during the alert (``alerts.measures.warnings_for``); a configured rule may lower key
nodes' thresholds under orange and red (``core.sensitivity``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from alerts.measures import ExternalWarning, WarningColour, WarningKind
from alerts.measures_out import WarningOut
from alerts.store.warnings import insert_warning, list_warnings
from app.api.deps import Principal, PrincipalDep, require_roles
from app.api.routes.hubs import DatabaseDep
from app.runtime import RuntimeDep

router = APIRouter(prefix="/v1", tags=["warnings"])
WarningWriterDep = Annotated[Principal, Depends(require_roles("regulator", "admin"))]
MAX_TEXT = 2000

EXAMPLE: dict[str, Any] = {
    "kind": "blizzard",
    "colour": "orange",
    "province": "黑龙江",
    "city": "哈尔滨",
    "valid_from": "2025-11-11T08:00:00+08:00",
    "valid_to": "2025-11-12T08:00:00+08:00",
    "source": "黑龙江省气象台",
    "text": "哈尔滨市区及周边将出现暴雪，局地大暴雪，高速公路可能封闭。",
}


class WarningIn(BaseModel):
    """A warning to record. Times need an offset (``+08:00`` for Beijing time)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    kind: WarningKind = Field(description="blizzard 暴雪, typhoon 台风, fog 大雾, rainstorm 暴雨 …")
    colour: WarningColour = Field(description="blue 蓝, yellow 黄, orange 橙, red 红")
    province: Annotated[str, Field(min_length=1, max_length=64)]
    city: Annotated[str | None, Field(min_length=1, max_length=64)] = Field(
        None, description="leave out for the whole province"
    )
    valid_from: AwareDatetime
    valid_to: AwareDatetime
    source: Annotated[str, Field(min_length=1, max_length=256)] = Field(
        description="who issued it, e.g. 中央气象台"
    )
    text: Annotated[str, Field(max_length=MAX_TEXT)] = ""

    @model_validator(mode="after")
    def _ends_after_it_begins(self) -> WarningIn:
        if self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return self


class WarningPage(BaseModel):
    """Warnings, newest validity first."""

    warnings: list[WarningOut]


def _refuse(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "value_error"}])


def _check_area(registry: pl.DataFrame, body: WarningIn) -> None:
    """A province (and city) the registry knows, or the warning would reach no alert."""
    in_province = registry.filter(pl.col("province") == body.province)
    if in_province.height == 0:
        raise _refuse("province", f"no registered hub is in province {body.province!r}")
    if body.city is not None and body.city not in in_province["city"].to_list():
        raise _refuse("city", f"no registered hub is in {body.city!r}, {body.province}")


@router.post("/warnings", response_model=WarningOut, status_code=201)
async def post_warning(
    body: WarningIn, principal: WarningWriterDep, runtime: RuntimeDep, database: DatabaseDep
) -> WarningOut:
    """Record a warning for a province (or one city of it). Regulators and admins only; the
    province and city must be those of registered hubs (as the hubs file writes them)."""
    _check_area(runtime.registry, body)
    new = ExternalWarning(
        id=0,
        recorded_by=principal.name,
        recorded_at=datetime.now(UTC),
        **body.model_dump(),
    )
    async with database.sessionmaker.begin() as session:
        stored = await insert_warning(session, new)
    return WarningOut.of(stored)


@router.get("/warnings", response_model=WarningPage)
async def get_warnings(
    _principal: PrincipalDep,
    database: DatabaseDep,
    province: str | None = None,
    valid_at: Annotated[
        AwareDatetime | None, Query(description="only those valid at this time")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> WarningPage:
    """Warnings, newest validity first; any key may read them (public information)."""
    async with database.sessionmaker() as session:
        found = await list_warnings(session, province=province, valid_at=valid_at, limit=limit)
    return WarningPage(warnings=[WarningOut.of(w) for w in found])
