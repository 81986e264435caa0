"""The hub registry: which hubs exist, whose they are, where, and how much they can hold.

HubSpec                     one hub as stored (hubs file, registry rows); 0 capacity = not rated
HubRegistration             the body of ``PUT /v1/hubs/{hub_id}``: both capacities must be > 0
parse_hubs(text)            JSON lines -> registry frame (HUB_SCHEMA)
upsert_hub(registry, hub)   registry frame with one hub added or replaced
check_events(events, reg)   events whose hub (and lane ends) are registered hubs of their carrier

Who may register or change which hub, and the ``key_node`` flag, is ``core.registration``.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import ConfigError
from core.events import CARRIER_PATTERN, MAX_HUB_ID_CHARS, REJECT_SCHEMA
from core.vocabulary import REASON_DTYPE, RejectReason

TIERS = ("national", "regional", "city", "terminal")
TIER_DTYPE = pl.Enum(list(TIERS))

HUB_SCHEMA: dict[str, pl.DataType] = {
    "hub_id": pl.String(),
    "carrier": pl.String(),
    "name": pl.String(),
    "province": pl.String(),
    "city": pl.String(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "tier": TIER_DTYPE,
    "storage_capacity": pl.Int64(),
    "sort_capacity_per_hour": pl.Int64(),
    "key_node": pl.Boolean(),
}


class HubSpec(BaseModel):
    """One registered hub (a line of the hubs file, or the body of ``PUT /v1/hubs/{hub_id}``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "hub_id": "ZTO-HZ01",
                    "carrier": "ZTO",
                    "name": "中通杭州转运中心",
                    "province": "浙江",
                    "city": "杭州",
                    "lat": 30.27,
                    "lon": 120.15,
                    "tier": "national",
                    "storage_capacity": 600000,
                    "sort_capacity_per_hour": 120000,
                    "key_node": True,
                }
            ]
        },
    )

    hub_id: Annotated[str, Field(min_length=1, max_length=MAX_HUB_ID_CHARS)]
    carrier: Annotated[str, Field(pattern=CARRIER_PATTERN)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    province: Annotated[str, Field(min_length=1, max_length=50)]
    city: Annotated[str, Field(min_length=1, max_length=50)]
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    tier: Literal["national", "regional", "city", "terminal"]
    storage_capacity: Annotated[int, Field(ge=0, description="parcels the site can hold")]
    sort_capacity_per_hour: Annotated[int, Field(ge=0)]
    key_node: bool = False


# Upper bounds of a hub registered over the API: far above the largest real sites (a few
# million parcels on hand, some hundred thousand sorted an hour), low enough that a capacity
# cannot be raised until the hub's overflow alerts could never fire.
MAX_STORAGE_CAPACITY = 100_000_000
MAX_SORT_CAPACITY_PER_HOUR = 10_000_000


class HubRegistration(HubSpec):
    """The body of ``PUT /v1/hubs/{hub_id}``: a hub as it is registered or changed over the API.

    Both capacities must be > 0: a hub with 0 would not be rated and its overflow and sorting
    alerts would vanish. The hubs file (the operator's) still loads 0 as "not rated".
    """

    storage_capacity: Annotated[
        int,
        Field(gt=0, le=MAX_STORAGE_CAPACITY, description="parcels the site can hold; > 0"),
    ]
    sort_capacity_per_hour: Annotated[
        int, Field(gt=0, le=MAX_SORT_CAPACITY_PER_HOUR, description="parcels sorted an hour; > 0")
    ]


def empty_registry() -> pl.DataFrame:
    """A registry with no hubs."""
    return pl.DataFrame(schema=HUB_SCHEMA)


def hubs_frame(hubs: list[HubSpec]) -> pl.DataFrame:
    """A registry frame from validated hubs; a later duplicate hub_id replaces an earlier one."""
    if not hubs:
        return empty_registry()
    frame = pl.DataFrame([hub.model_dump() for hub in hubs], schema=HUB_SCHEMA)
    return frame.unique("hub_id", keep="last", maintain_order=True)


def parse_hubs(text: str, *, source: str = "hubs file") -> pl.DataFrame:
    """Parse a hubs file (JSON lines, one hub per line; blank lines and ``#`` comments skipped).

    Raises ``ConfigError`` naming the line, the field and the rule of the first bad hub.
    """
    hubs: list[HubSpec] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            hubs.append(HubSpec.model_validate(json.loads(stripped)))
        except json.JSONDecodeError as error:
            raise ConfigError(f"{source} line {number}: not valid JSON: {error}") from error
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "(line)"
            raise ConfigError(f"{source} line {number}: {field}: {first['msg']}") from error
    return hubs_frame(hubs)


def upsert_hub(registry: pl.DataFrame, hub: HubSpec) -> pl.DataFrame:
    """The registry with ``hub`` added, or replacing the hub of the same id in place."""
    row = hubs_frame([hub])
    if registry.filter(pl.col("hub_id") == hub.hub_id).height == 0:
        return pl.concat([registry, row])
    return registry.update(row, on="hub_id")


LANE_RULE = "must be a registered hub of the same carrier"
"""Reason of a ``from_hub``/``to_hub`` that is not a registered hub of the event's carrier (the
HTTP path says the same): it names the sender's own carrier, never the hub's owner."""
_LANE_FIELDS = ("from_hub", "to_hub")


def check_events(events: pl.DataFrame, registry: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split decoded events into those of a registered hub of the same carrier, and rejects.

    A lane end (``from_hub``, ``to_hub``) must be a registered hub of that carrier too: a lane
    to another carrier's hub would move that hub's in-transit parcels, and unregistered names
    would grow the lanes without bound. One query, in record order; the first rule broken is
    the reason. ``events`` must carry the ``index`` column of ``decode_batch``; rejects use
    ``REJECT_SCHEMA``.
    """
    owners = registry.lazy().select("hub_id", "carrier")
    joined = events.lazy().join(
        owners.rename({"carrier": "hub_carrier"}), on="hub_id", how="left", maintain_order="left"
    )
    for lane in _LANE_FIELDS:
        joined = joined.join(
            owners.rename({"hub_id": lane, "carrier": f"{lane}_carrier"}),
            on=lane,
            how="left",
            maintain_order="left",
        )
    unknown = pl.col("hub_carrier").is_null()
    wrong_carrier = pl.col("hub_carrier") != pl.col("carrier")
    foreign = {
        lane: pl.col(lane).is_not_null() & pl.col(f"{lane}_carrier").ne_missing(pl.col("carrier"))
        for lane in _LANE_FIELDS
    }
    field = (
        pl.when(unknown)
        .then(pl.lit("hub_id"))
        .when(wrong_carrier)
        .then(pl.lit("carrier"))
        .when(foreign["from_hub"])
        .then(pl.lit("from_hub"))
        .when(foreign["to_hub"])
        .then(pl.lit("to_hub"))
    )
    reason = (
        pl.when(unknown)
        .then(pl.lit("must be a registered hub"))
        .when(wrong_carrier)
        .then(pl.format("must match the hub's carrier ({})", pl.col("hub_carrier")))
        .otherwise(pl.format(f"{LANE_RULE} ({{}})", pl.col("carrier")))
    )
    code = (
        pl.when(unknown)
        .then(pl.lit(RejectReason.UNKNOWN_HUB.value))
        .when(wrong_carrier)
        .then(pl.lit(RejectReason.CARRIER_MISMATCH.value))
        .otherwise(pl.lit(RejectReason.FOREIGN_LANE.value))
        .cast(REASON_DTYPE)
    )
    checked = joined.with_columns(field.alias("field"))
    bad = pl.col("field").is_not_null()
    valid, rejects = pl.collect_all(
        [
            checked.filter(~bad).select(events.columns),
            checked.filter(bad).select(
                pl.col("index").cast(pl.UInt32),
                "field",
                reason.alias("reason"),
                code.alias("code"),
            ),
        ]
    )
    return valid, rejects.cast(REJECT_SCHEMA)  # type: ignore[arg-type]
