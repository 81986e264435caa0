"""The daily report (一日一报): ``GET /v1/reports/daily?date=YYYY-MM-DD[&province=…]`` as JSON,
a printable Chinese page (``format=html``) or the hub table as CSV (``format=csv``).

Every key may read it; a carrier key gets the same report of its own hubs only (totals, hours,
hubs, and its hubs' alerts: no province or network alert, whose numbers are everyone's).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from app.api.deps import PrincipalDep
from app.api.problems import field_error, problems
from app.api.routes.hubs import DatabaseDep
from app.reports.daily import gather
from app.reports.model import DailyReport
from app.reports.page import render_csv, render_html
from app.runtime import RuntimeDep

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/daily",
    response_model=DailyReport,
    responses={
        **problems(401),
        200: {"content": {"text/html": {}, "text/csv": {}}},
    },
)
async def daily_report(
    principal: PrincipalDep,
    runtime: RuntimeDep,
    database: DatabaseDep,
    date: Annotated[dt.date, Query(description="the day, 00:00–24:00 Beijing time")],
    province: Annotated[str | None, Query(description="a province; none: the nation")] = None,
    format: Annotated[Literal["json", "html", "csv"], Query()] = "json",
) -> DailyReport | Response:
    """The report of ``date`` for the nation or one province, in event time."""
    if province is not None and province not in set(runtime.registry["province"].to_list()):
        raise field_error("query", "province", f"no registered hub is in province {province!r}")
    carrier = principal.carrier if principal.role == "carrier" else None
    report = await gather(
        database,
        day=date,
        province=province,
        carrier=carrier,
        silent_after_s=runtime.engine.config.silent_yellow_s,
        pending=runtime.hour_rows.live_rows(runtime.snapshot.buckets),
    )
    if format == "html":
        return HTMLResponse(render_html(report))
    if format == "csv":
        name = f"daily-{date.isoformat()}{'-' + province if province else ''}.csv"
        return PlainTextResponse(
            render_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
        )
    return report
