"""``POST /v1/events``: couriers post hub events; valid ones go to Kafka with acks=all.

Every item is either accepted (stored in Kafka before we answer) or rejected with its index, the
field and the rule. Nothing is dropped without the caller being told: a batch Kafka cannot take
answers 503 with Retry-After and none of it counts as accepted (re-sending is safe: the consumer
de-duplicates on ``(carrier, event_id)``).

The order of the checks is the order of their cost: body size while reading, item count and
nesting depth before any item is built (``app/api/batch_body.py``), the caller's carrier's rate,
then each item (schema v1, hub ownership, the clock) in a worker thread when the body is large.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from app.api.batch_body import BodyError, RawBatch, read_json, read_ndjson
from app.api.deps import Principal, require_roles
from app.api.problems import problems
from app.runtime import Runtime, RuntimeDep
from app.settings import Settings
from core.config import RiskConfig
from core.errors import BrokerUnavailableError
from core.events import HubEvent

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["events"])

PosterDep = Annotated[Principal, Depends(require_roles("carrier", "admin"))]
_EVENT = TypeAdapter(HubEvent)
_T = TypeVar("_T")

OFFLOAD_BYTES = 64 * 1024
"""Bodies from this size on are read and validated in a worker thread (about 300 events)."""
MAX_EPOCH_MS = 10**15 - 1
"""15 digits, as on the Kafka path: 16 or more are micro- or nanoseconds, or garbage."""


class Rejection(BaseModel):
    """Why one item of the batch was not accepted."""

    model_config = {"extra": "forbid"}

    index: int = Field(
        description="position of the item in the batch from 0 (NDJSON: its line number from 0)"
    )
    field: str = Field(description="the field at fault, or (item) for the whole item")
    reason: str = Field(description="the rule it broke")


class IngestResult(BaseModel):
    """What happened to a batch."""

    accepted: int = Field(description="items stored in Kafka")
    rejected: list[Rejection] = Field(description="items refused, with reasons")

    model_config = {
        "extra": "forbid",
        "json_schema_extra": {
            "examples": [
                {
                    "accepted": 999,
                    "rejected": [{"index": 17, "field": "parcels", "reason": "must be ≥ 0"}],
                }
            ]
        },
    }


class EventBatch(BaseModel):
    """``application/json`` body: ``{"events": [...]}``. ``application/x-ndjson``: one per line."""

    model_config = {"extra": "forbid"}

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
        raise _problem(413, f"body is {declared} bytes; the limit is {limit} (max_body_bytes)")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _problem(413, f"body is over the limit of {limit} bytes (max_body_bytes)")
    return bytes(body)


def _read_items(body: bytes, content_type: str, settings: Settings) -> RawBatch:
    """The body's items, within the count and depth limits (``BodyError`` when over one)."""
    if content_type.startswith("application/x-ndjson"):
        return read_ndjson(body, max_events=settings.max_batch_events)
    return read_json(body, max_events=settings.max_batch_events)


@dataclass(frozen=True)
class IngestRules:
    """What an HTTP item is checked against beyond schema v1: hub ownership and the clock."""

    owners: Mapping[str, str]  # hub_id → carrier code of every registered hub
    latest_ts_ms: int  # wall clock + max_future_skew_s: later events would be quarantined
    max_future_skew_s: int


def ingest_rules(runtime: Runtime, *, now_s: float) -> IngestRules:
    """The rules as of ``now_s`` (wall clock, epoch seconds), with the consumer's skew bound."""
    skew_s = RiskConfig.from_mapping(runtime.settings.risk).max_future_skew_s
    return IngestRules(
        owners=runtime.hub_owners(),
        latest_ts_ms=int(now_s * 1000) + skew_s * 1000,
        max_future_skew_s=skew_s,
    )


def validate_items(
    batch: RawBatch, principal: Principal, rules: IngestRules
) -> tuple[list[HubEvent], list[Rejection]]:
    """Schema v1, then ``broken_rule``, item by item (pydantic-core is fast); sorted rejections."""
    rejected = [Rejection(index=i, field="(item)", reason=reason) for i, reason in batch.broken]
    valid: list[HubEvent] = []
    for index, item in batch.items:
        try:
            event = _EVENT.validate_python(item)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "(item)"
            rejected.append(Rejection(index=index, field=field, reason=first["msg"]))
            continue
        broken = broken_rule(event, principal, rules)
        if broken is None:
            valid.append(event)
        else:
            rejected.append(Rejection(index=index, field=broken[0], reason=broken[1]))
    rejected.sort(key=lambda r: r.index)
    return valid, rejected


def broken_rule(
    event: HubEvent, principal: Principal, rules: IngestRules
) -> tuple[str, str] | None:
    """The first HTTP rule a schema-valid event breaks, as (field, reason); None if none.

    A carrier key is told the same for a hub that does not exist and for a competitor's hub, so
    answers never say who owns a hub id; admins, who see every hub, are told the owner.
    """
    if isinstance(event.ts, int) and abs(event.ts) > MAX_EPOCH_MS:
        return "ts", "must be epoch milliseconds of at most 15 digits (not micro- or nanoseconds)"
    if event.ts_ms > rules.latest_ts_ms:
        return "ts", (
            f"must not be more than {rules.max_future_skew_s} s ahead of the server's clock "
            "(risk.max_future_skew_s); check the sender's clock and time zone"
        )
    if principal.role == "carrier" and event.carrier != principal.carrier:
        return "carrier", f"must be your own carrier ({principal.carrier})"
    owner = rules.owners.get(event.hub_id)
    if owner != event.carrier:
        if principal.role == "carrier":
            return "hub_id", "must be one of your registered hubs"
        if owner is None:
            return "hub_id", "must be a registered hub"
        return "carrier", f"must match the hub's carrier ({owner})"
    # a lane to or from another carrier's hub would move that carrier's in-transit numbers
    for lane_field, lane_hub in (("from_hub", event.from_hub), ("to_hub", event.to_hub)):
        if lane_hub is not None and rules.owners.get(lane_hub) != event.carrier:
            return lane_field, f"must be a registered hub of the same carrier ({event.carrier})"
    return None


async def _off_loop(body: bytes, work: Callable[..., _T], *args: Any) -> _T:
    """Run ``work`` in a worker thread when the body is large, so the event loop keeps serving."""
    if len(body) < OFFLOAD_BYTES:
        return work(*args)
    return await asyncio.to_thread(work, *args)


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
        s400='not JSON, not {"events": [...]}, or nested deeper than 32 levels',
        s403="this role may not post events",
        s413="body or item count over the limit",
        s415="send application/json or application/x-ndjson",
        s429="over the caller's carrier's rate; Retry-After says when to try again",
        s503="Kafka could not take the batch; nothing was accepted; retry after Retry-After",
    ),
)
async def post_events(request: Request, principal: PosterDep, runtime: RuntimeDep) -> JSONResponse:
    """Check the limits, then every item; store the valid ones in Kafka (acks=all)."""
    settings = runtime.settings
    content_type = request.headers.get("content-type", "application/json")
    if not content_type.startswith(("application/json", "application/x-ndjson")):
        raise _problem(415, 'send application/json ({"events": [...]}) or application/x-ndjson')
    body = await _read_body(request, settings.max_body_bytes)
    try:
        batch = await _off_loop(body, _read_items, body, content_type, settings)
    except BodyError as error:
        log.info("POST /v1/events from %s refused %d: %s", principal.name, error.status, error)
        raise _problem(error.status, error.detail) from error
    wait_s = runtime.rate_limiter.take(principal.rate_subject, batch.size, time.monotonic())
    if wait_s > 0:
        log.info("POST /v1/events from %s over its rate (%d items)", principal.name, batch.size)
        raise _problem(
            429, f"over the rate of {principal.rate_subject}; retry in {wait_s:.1f} s", wait_s
        )
    rules = ingest_rules(runtime, now_s=time.time())
    valid, rejected = await _off_loop(body, validate_items, batch, principal, rules)
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
