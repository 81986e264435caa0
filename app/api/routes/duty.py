"""The duty roster (值班表): who is on duty now, and the sheet itself.

``PUT /v1/duty`` replaces the roster with a duty office's sheet, as CSV (``text/csv``, Chinese
headers such as 日期,班次,省份,值班人员,带班领导,电话,邮箱; see ``alerts.duty``) or JSON
(``{"shifts": [...]}``). Every bad row is named by line (or index) and field; nothing is taken then.
The roster names people and their phones: regulators, on-call staff and admins read it, never a
carrier key.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import AwareDatetime, BaseModel, Field, TypeAdapter, ValidationError

from alerts.duty import NATIONAL, RosterError, Shift, on_duty, parse_roster_csv
from alerts.store.duty import all_shifts, replace_roster, shifts_between
from app.api.deps import Principal, require_roles
from app.api.problems import problems
from storage.db import Database

router = APIRouter(prefix="/v1", tags=["duty"])

RosterReaderDep = Annotated[Principal, Depends(require_roles("regulator", "oncall", "admin"))]
RosterWriterDep = Annotated[Principal, Depends(require_roles("regulator", "admin"))]
MAX_ROSTER_BYTES = 2_000_000
_SHIFTS = TypeAdapter(list[Shift])


def _database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


DatabaseDep = Annotated[Database, Depends(_database)]


class OnDuty(BaseModel):
    """Who holds each role for ``province`` at ``at``."""

    province: str
    at: datetime
    duty: Shift | None = Field(description="the person on duty (值班人员), null: nobody")
    duty_from: str | None = Field(description="whose roster answered: the province or CN")
    leader: Shift | None = Field(description="the leader on call (带班领导)")
    leader_from: str | None


class Roster(BaseModel):
    """The whole roster, earliest shift first."""

    shifts: list[Shift]


class RosterStored(BaseModel):
    """The answer to ``PUT /v1/duty``."""

    stored: int = Field(description="shifts stored; the previous roster is replaced")
    shifts: list[Shift]


@router.get(
    "/duty/now",
    response_model=OnDuty,
    responses=problems(403, s403="carrier keys do not read the roster"),
)
async def get_on_duty(
    _: RosterReaderDep,
    db: DatabaseDep,
    province: Annotated[str, Query(min_length=1, description="province, or CN")] = NATIONAL,
    at: Annotated[AwareDatetime | None, Query(description="RFC 3339; default now")] = None,
) -> OnDuty:
    """The person on duty and the leader on call for ``province`` at ``at`` (default now),
    falling back to the national (CN) roster where the province has nobody."""
    moment = at or datetime.now(UTC)
    async with db.sessionmaker() as session:
        roster = await shifts_between(session, moment, moment)
    duty = on_duty(roster, province, moment)
    leader = on_duty(roster, province, moment, role="leader")
    return OnDuty(
        province=province,
        at=moment,
        duty=duty,
        duty_from=None if duty is None else duty.province,
        leader=leader,
        leader_from=None if leader is None else leader.province,
    )


@router.get("/duty", response_model=Roster, responses=problems(403))
async def get_roster(_: RosterReaderDep, db: DatabaseDep) -> Roster:
    """Every shift of the roster."""
    async with db.sessionmaker() as session:
        return Roster(shifts=await all_shifts(session))


@router.put(
    "/duty",
    response_model=RosterStored,
    responses=problems(403, 413, 415, 422, s422="names each bad row by line and field"),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": Roster.model_json_schema()},
            },
        }
    },
)
async def put_roster(request: Request, principal: RosterWriterDep, db: DatabaseDep) -> RosterStored:
    """Replace the roster (regulator, admin) with a CSV sheet or a JSON list of shifts."""
    body = await request.body()
    if len(body) > MAX_ROSTER_BYTES:
        raise HTTPException(status_code=413, detail=f"a roster is at most {MAX_ROSTER_BYTES} bytes")
    shifts = _parse(request.headers.get("content-type", ""), body)
    async with db.sessionmaker.begin() as session:
        stored = await replace_roster(
            session, shifts, by=principal.name, wall_now=datetime.now(UTC)
        )
    return RosterStored(stored=stored, shifts=shifts)


def _parse(content_type: str, body: bytes) -> list[Shift]:
    media = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise HTTPException(status_code=422, detail="body: not UTF-8 text") from error
    try:
        if media in ("text/csv", "text/plain"):
            return parse_roster_csv(text)
        if media == "application/json":
            return _SHIFTS.validate_python(_shift_list(text))
    except RosterError as error:
        raise HTTPException(status_code=422, detail="; ".join(error.problems)) from error
    except ValidationError as error:
        raise HTTPException(status_code=422, detail=_reasons(error)) from error
    raise HTTPException(
        status_code=415, detail="Content-Type: send text/csv (a duty sheet) or application/json"
    )


def _shift_list(text: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise HTTPException(status_code=422, detail=f"body: not JSON ({error.msg})") from error
    if not isinstance(data, dict) or not isinstance(data.get("shifts"), list):
        raise HTTPException(status_code=422, detail='body: expected {"shifts": [...]}')
    return data["shifts"]


def _reasons(error: ValidationError) -> str:
    return "; ".join(
        f"shifts[{e['loc'][0]}]" + "".join(f".{p}" for p in e["loc"][1:]) + f": {e['msg']}"
        for e in error.errors()
    )
