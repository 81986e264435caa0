"""``POST /v1/events``: couriers post hub events; valid ones go to Kafka with acks=all.

Every item is either accepted (stored in Kafka before we answer) or rejected with its index, the
field and the rule. Nothing is dropped without the caller being told: a batch Kafka cannot take
answers 503 with Retry-After and none of it counts as accepted (re-sending is safe: the consumer
de-duplicates on ``(carrier, event_id)``).
"""

from __future__ import annotations

import json
import logging
import math
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from app.api.deps import Principal, require_roles
from app.api.problems import problems
from app.runtime import Runtime, RuntimeDep
from core.errors import BrokerUnavailableError
from core.events import HubEvent

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["events"])

PosterDep = Annotated[Principal, Depends(require_roles("carrier", "admin"))]
_EVENT = TypeAdapter(HubEvent)


class Rejection(BaseModel):
    """Why one item of the batch was not accepted."""

    index: int = Field(description="position of the item in the batch, from 0")
    field: str = Field(description="the field at fault, or (item) for the whole item")
    reason: str = Field(description="the rule it broke")


class IngestResult(BaseModel):
    """What happened to a batch."""

    accepted: int = Field(description="items stored in Kafka")
    rejected: list[Rejection] = Field(description="items refused, with reasons")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "accepted": 999,
                    "rejected": [{"index": 17, "field": "parcels", "reason": "must be ≥ 0"}],
                }
            ]
        }
    }


class EventBatch(BaseModel):
    """``application/json`` body: ``{"events": [...]}``. ``application/x-ndjson``: one per line."""

    events: list[HubEvent]


def _batch_schema() -> dict[str, Any]:
    """The JSON body's schema with the event schema inlined (no dangling $defs)."""
    schema = EventBatch.model_json_schema()
    definitions = schema.pop("$defs")
    schema["properties"]["events"]["items"] = definitions["HubEvent"]
    return schema


def _problem(code: int, detail: str, retry_after_s: float | None = None) -> HTTPException:
    headers = (
        None if retry_after_s is None else {"Retry-After": str(max(1, math.ceil(retry_after_s)))}
    )
    return HTTPException(status_code=code, detail=detail, headers=headers)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _problem(413, f"body is {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _problem(413, f"body is over the limit of {limit} bytes")
    return bytes(body)


def _items(body: bytes, content_type: str) -> tuple[list[Any], list[Rejection]]:
    """The raw items of the body, and rejections for ndjson lines that are not JSON."""
    if content_type.startswith("application/x-ndjson"):
        items: list[Any] = []
        broken: list[Rejection] = []
        for index, line in enumerate(body.splitlines()):
            try:
                items.append(json.loads(line))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                items.append(None)
                broken.append(
                    Rejection(index=index, field="(item)", reason=f"not valid JSON: {error}")
                )
        return items, broken
    if not content_type.startswith("application/json"):
        raise _problem(415, 'send application/json ({"events": [...]}) or application/x-ndjson')
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _problem(400, f"body is not valid JSON: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise _problem(400, 'body must be an object {"events": [...]}')
    return list(document["events"]), []


def _validate(
    items: list[Any], broken: list[Rejection], principal: Principal, runtime: Runtime
) -> tuple[list[HubEvent], list[Rejection]]:
    """Schema, carrier isolation and hub registration, item by item (pydantic-core is fast)."""
    rejected = list(broken)
    skip = {r.index for r in broken}
    owners = runtime.hub_owners()
    valid: list[HubEvent] = []
    for index, item in enumerate(items):
        if index in skip:
            continue
        try:
            event = _EVENT.validate_python(item)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "(item)"
            rejected.append(Rejection(index=index, field=field, reason=first["msg"]))
            continue
        if principal.role == "carrier" and event.carrier != principal.carrier:
            reason = f"must be your own carrier ({principal.carrier})"
            rejected.append(Rejection(index=index, field="carrier", reason=reason))
        elif event.hub_id not in owners:
            rejected.append(
                Rejection(index=index, field="hub_id", reason="must be a registered hub")
            )
        elif owners[event.hub_id] != event.carrier:
            reason = f"must match the hub's carrier ({owners[event.hub_id]})"
            rejected.append(Rejection(index=index, field="carrier", reason=reason))
        else:
            valid.append(event)
    rejected.sort(key=lambda r: r.index)
    return valid, rejected


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=IngestResult,
    summary="Post a batch of hub events",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _batch_schema()},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
    responses=problems(
        400,
        403,
        413,
        415,
        429,
        503,
        s400='the body is not JSON, or not {"events": [...]}',
        s403="this role may not post events",
        s413="body or item count over the limit",
        s415="send application/json or application/x-ndjson",
        s429="over the caller's rate; Retry-After says when to try again",
        s503="Kafka could not take the batch; nothing was accepted; retry after Retry-After",
    ),
)
async def post_events(request: Request, principal: PosterDep, runtime: RuntimeDep) -> Any:
    """Validate every item, store the valid ones in Kafka (acks=all), report the rest."""
    settings = runtime.settings
    body = await _read_body(request, settings.max_body_bytes)
    items, broken = _items(body, request.headers.get("content-type", "application/json"))
    if len(items) > settings.max_batch_events:
        raise _problem(
            413, f"{len(items)} events; the limit is {settings.max_batch_events} a batch"
        )
    wait_s = runtime.rate_limiter.take(
        principal.key_id, principal.carrier, len(items), time.monotonic()
    )
    if wait_s > 0:
        raise _problem(429, f"over the rate for this key; retry in {wait_s:.1f} s", wait_s)
    valid, rejected = _validate(items, broken, principal, runtime)
    try:
        await runtime.produce_events(valid)
    except BrokerUnavailableError as error:
        log.warning("batch of %d events refused with 503: %s", len(valid), error)
        raise _problem(
            503, f"Kafka could not take the batch, nothing accepted: {error}", 5
        ) from error
    runtime.count_ingest(principal, accepted=len(valid), rejected=len(rejected))
    result = IngestResult(accepted=len(valid), rejected=rejected)
    return JSONResponse(status_code=202, content=result.model_dump())
