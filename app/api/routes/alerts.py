"""Alerts, acknowledgements, silences and the live alert stream (``/v1/alerts``, ``/v1/silences``).

Reading needs any key; a carrier key sees only alerts labelled with its own carrier. Acknowledging
and silencing need an on-call or admin key. The acknowledge link in a notification works without
a key: it carries a token signed for that one alert and asks for a name before it acknowledges.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Literal, get_args
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent

from alerts.delivery.silence import Matcher
from alerts.errors import (
    AckLinkError,
    AlertNotActiveError,
    AlertNotFoundError,
    SilenceError,
    SilenceNotFoundError,
)
from alerts.model import Alert, ChangeKind
from alerts.schemas import (
    AlertChangeOut,
    AlertOut,
    AlertPageOut,
    SilenceIn,
    SilenceOut,
)
from alerts.service import AlertService
from alerts.store.history import AlertQuery
from app.api.deps import OnCallDep, Principal, PrincipalDep, require_roles
from app.api.routes.mitigations import alert_outs
from core.levels import WarningLevel

router = APIRouter(prefix="/v1", tags=["alerts"])
StateFilter = Literal["pending", "firing", "resolved", "active", "all"]
_STATES: dict[str, tuple[str, ...]] = {
    "pending": ("pending",),
    "firing": ("firing",),
    "resolved": ("resolved",),
    "active": ("pending", "firing"),
    "all": (),
}
SilenceReaderDep = Annotated[Principal, Depends(require_roles("admin", "oncall", "regulator"))]


_SSE_CONTENT = {
    "text/event-stream": {
        "itemSchema": {
            "type": "object",
            "required": ["event", "id", "data"],
            "properties": {
                "event": {"type": "string", "enum": list(get_args(ChangeKind))},
                "id": {"type": "string", "description": "history id; send as Last-Event-ID"},
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": {"$ref": "#/components/schemas/AlertChangeOut"},
                },
            },
        },
        "example": 'event: firing\nid: 42\ndata: {"event_id": 42, "kind": "firing", ...}\n\n',
    }
}


def _service(request: Request) -> AlertService:
    service: AlertService = request.app.state.alerts
    return service


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _visible(principal: Principal, alert: Alert | None) -> Alert:
    if alert is None or not principal.sees_carrier(alert.carrier):
        raise HTTPException(status_code=404, detail="no such alert")
    return alert


@router.get("/alerts", response_model=AlertPageOut)
async def list_alerts(
    request: Request,
    principal: PrincipalDep,
    state: StateFilter = "all",
    level: Annotated[list[WarningLevel] | None, Query()] = None,
    rule: Annotated[list[str] | None, Query()] = None,
    scope: Annotated[list[Literal["hub", "province", "carrier", "network"]] | None, Query()] = None,
    province: Annotated[list[str] | None, Query()] = None,
    carrier: Annotated[list[str] | None, Query()] = None,
    subject: Annotated[str | None, Query(description="hub id, province, carrier or CN")] = None,
    since: Annotated[datetime | None, Query(description="active at or after (event time)")] = None,
    until: Annotated[datetime | None, Query(description="started before (event time)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> AlertPageOut:
    """Alerts newest first. Repeat a filter to allow several values (``level=orange&level=red``).

    ``since``/``until`` select alerts active at some time in the range; a time without an
    offset is UTC. A carrier key sees its own carrier's alerts only.
    """
    carriers = tuple(carrier or ())
    if principal.role == "carrier":
        if any(c != principal.carrier for c in carriers):
            raise HTTPException(status_code=403, detail="a carrier key reads its own alerts only")
        carriers = (principal.carrier or "",)
    query = AlertQuery(
        states=_STATES[state],
        levels=tuple(level or ()),
        rules=tuple(rule or ()),
        scopes=tuple(scope or ()),
        provinces=tuple(province or ()),
        carriers=carriers,
        subject=subject,
        since=_utc(since),
        until=_utc(until),
        limit=limit,
        cursor=cursor,
    )
    try:
        page = await _service(request).list_alerts(query)
    except ValueError as error:
        raise HTTPException(status_code=400, detail="cursor: not one this API issued") from error
    alerts = await alert_outs(request.app.state, page.alerts)
    return AlertPageOut(alerts=alerts, next_cursor=page.next_cursor)


@router.get(
    "/alerts/stream",
    response_class=EventSourceResponse,
    responses={200: {"description": "one event per alert change", "content": _SSE_CONTENT}},
)
async def stream_alerts(
    request: Request,
    principal: PrincipalDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    after: Annotated[int | None, Query(ge=0, description="resume after this event id")] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events: ``event`` is the change (``pending``, ``firing``, ``level_changed``,
    ``resolved``, ``cancelled``, ``acked``, ``escalated``), ``id`` its history id, ``data`` an
    ``AlertChangeOut``. Reconnecting with ``Last-Event-ID`` resumes without a gap."""
    resume = after
    if last_event_id is not None and last_event_id.isdigit():
        resume = int(last_event_id)
    async for change in _service(request).subscribe(after_event_id=resume):
        if not principal.sees_carrier(change.alert.carrier):
            continue
        yield ServerSentEvent(
            event=change.kind,
            id=str(change.event_id),
            raw_data=AlertChangeOut.of(change).model_dump_json(),
        )


@router.get(
    "/alerts/{alert_id}", response_model=AlertOut, responses={404: {"description": "no such alert"}}
)
async def get_alert(alert_id: str, request: Request, principal: PrincipalDep) -> AlertOut:
    """One alert, with the measures and warnings that apply to it."""
    alert = _visible(principal, await _service(request).get(alert_id))
    return (await alert_outs(request.app.state, [alert]))[0]


@router.get(
    "/alerts/{alert_id}/history",
    response_model=list[AlertChangeOut],
    responses={404: {"description": "no such alert"}},
)
async def alert_history(
    alert_id: str, request: Request, principal: PrincipalDep
) -> list[AlertChangeOut]:
    """Every change of one alert, oldest first: pending, firing, level changes, who
    acknowledged, escalations, resolve."""
    service = _service(request)
    _visible(principal, await service.get(alert_id))
    return [AlertChangeOut.of(change) for change in await service.history(alert_id)]


@router.post(
    "/alerts/{alert_id}/ack",
    response_model=AlertOut,
    responses={404: {"description": "no such alert"}, 409: {"description": "already resolved"}},
)
async def ack_alert(alert_id: str, request: Request, principal: OnCallDep) -> AlertOut:
    """Acknowledge: records who and when, and stops escalation. A second ack keeps the first."""
    try:
        alert = await _service(request).ack(alert_id, by=principal.name)
    except AlertNotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from error
    except AlertNotActiveError as error:
        raise HTTPException(status_code=409, detail=str(error)) from error
    return AlertOut.of(alert)


@router.get("/alerts/{alert_id}/ack-link", response_class=HTMLResponse, include_in_schema=False)
async def ack_link_page(alert_id: str, token: str, request: Request) -> HTMLResponse:
    """The page an acknowledge link opens: the alert, and a form asking who acknowledges."""
    service = _service(request)
    if not service.ack_link_valid(alert_id, token):
        return _page("链接无效 / Invalid link", status_code=403)
    alert = await service.get(alert_id)
    if alert is None:
        return _page("告警不存在 / No such alert", status_code=404)
    form = (
        f"<p>{html.escape(alert.summary)}<br>{html.escape(alert.summary_en)}</p>"
        f'<form method="post"><input type="hidden" name="token" value="{html.escape(token)}">'
        '<label>姓名 / Name <input name="name" required maxlength="64"></label> '
        '<button type="submit">确认告警 / Acknowledge</button></form>'
    )
    return _page(f"{alert.rule} · {alert.subject} · {alert.level}", body=form)


ACK_FORM_MAX_BYTES = 4096
"""The acknowledge form holds a token and a name of at most 64 characters: a few hundred bytes."""


@router.post("/alerts/{alert_id}/ack-link", response_class=HTMLResponse, include_in_schema=False)
async def ack_link_submit(alert_id: str, request: Request) -> HTMLResponse:
    """Acknowledge from the link's form (``token`` and ``name``, form-encoded).

    Anyone can reach this without a key, so at most ``ACK_FORM_MAX_BYTES`` of the body are read
    (413 above), and a wrong token is refused before anything touches the database.
    """
    form = await _small_body(request, ACK_FORM_MAX_BYTES)
    if form is None:
        return _page("请求过大 / Request too large", status_code=413)
    try:
        fields = parse_qs(form.decode("utf-8", "replace"), max_num_fields=8)
    except ValueError:
        return _page("链接无效 / Invalid link", status_code=400)
    token = fields.get("token", [""])[0]
    name = fields.get("name", [""])[0].strip()[:64] or "anonymous"
    try:  # the token (an HMAC) is checked first, before the database
        alert = await _service(request).ack_with_token(alert_id, token, by=f"link:{name}")
    except AckLinkError:
        return _page("链接无效 / Invalid link", status_code=403)
    except AlertNotFoundError:
        return _page("告警不存在 / No such alert", status_code=404)
    except AlertNotActiveError:
        return _page("告警已恢复 / Already resolved", status_code=409)
    return _page(f"已确认 / Acknowledged by {alert.acked_by}")


async def _small_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is (or says it is) over ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _page(title: str, *, body: str = "", status_code: int = 200) -> HTMLResponse:
    content = (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width"><title>peakwatch</title></head>'
        f"<body><h3>{html.escape(title)}</h3>{body}</body></html>"
    )
    return HTMLResponse(content, status_code=status_code)


@router.get("/silences", response_model=list[SilenceOut])
async def list_silences(
    request: Request, _: SilenceReaderDep, include_expired: bool = False
) -> list[SilenceOut]:
    """Silences in force (and, with ``include_expired``, past ones), newest first."""
    silences = await _service(request).list_silences(include_expired=include_expired)
    return [SilenceOut.of(silence) for silence in silences]


@router.post(
    "/silences",
    status_code=status.HTTP_201_CREATED,
    response_model=SilenceOut,
    responses={422: {"description": "bad matcher or window"}},
)
async def create_silence(body: SilenceIn, request: Request, principal: OnCallDep) -> SilenceOut:
    """Mute notifications of alerts matching every matcher, from ``starts_at`` (default now)
    until ``ends_at`` or for ``duration_s``. Alerts are still recorded and shown."""
    matchers = [Matcher(m.name, m.value, m.is_regex, m.is_equal) for m in body.matchers]
    try:
        silence = await _service(request).create_silence(
            matchers=matchers,
            starts_at=_utc(body.starts_at),
            ends_at=_utc(body.ends_at),
            duration_s=body.duration_s,
            created_by=principal.name,
            comment=body.comment,
        )
    except SilenceError as error:
        raise HTTPException(status_code=422, detail=str(error)) from error
    return SilenceOut.of(silence)


@router.delete(
    "/silences/{silence_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "no such silence"}},
)
async def delete_silence(silence_id: str, request: Request, principal: OnCallDep) -> None:
    """Expire a silence now (it stays in the history with who ended it)."""
    try:
        await _service(request).delete_silence(silence_id, by=principal.name)
    except SilenceNotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from error
