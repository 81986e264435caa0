"""``GET /v1/hubs`` and ``GET /v1/hubs/{hub_id}``: a hub's registry entry and every measure of
its state (``core.measures.HUB_STATE_SCHEMA``). Rates are parcels per minute, times RFC 3339."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.levels import Level


class HubState(BaseModel):
    """A hub's registry entry and its state at the watermark."""

    model_config = ConfigDict(extra="forbid")

    hub_id: str
    carrier: str = Field(description="carrier code, e.g. ZTO")
    name: str
    province: str
    city: str
    lat: float = Field(description="latitude, degrees")
    lon: float = Field(description="longitude, degrees")
    tier: Literal["national", "regional", "city", "terminal"]
    storage_capacity: int = Field(description="parcels the hub can hold")
    sort_capacity_per_hour: int = Field(description="parcels sorted per hour at most")
    key_node: bool = Field(description="a key node (重要节点) of the network")
    arrivals_total: int = Field(description="parcels arrived since the service first saw the hub")
    departures_total: int = Field(description="parcels left since the service first saw the hub")
    backlog: int | None = Field(description="parcels on hand")
    utilization: float | None = Field(description="backlog / storage_capacity")
    arrival_rate_per_min: float | None = Field(description="parcels arriving per minute")
    departure_rate_per_min: float | None = Field(description="parcels leaving per minute")
    net_inflow_per_min: float | None = Field(description="arrivals less departures per minute")
    in_transit_parcels: int | None = Field(description="parcels on their way to the hub")
    time_to_overflow_s: float | None = Field(description="seconds; null when net inflow ≤ 0")
    sorting_saturated: bool | None = Field(description="arrivals above sort capacity throughout")
    saturation_ratio: float | None = Field(description="arrivals / sort capacity")
    arrivals_30m: int | None = Field(description="parcels arrived in the last 30 minutes")
    departures_30m: int | None = Field(description="parcels left in the last 30 minutes")
    last_event_at: datetime | None = Field(description="event time of the hub's last event")
    silent_for_s: float | None = Field(description="seconds since the hub's last event")
    overflow_level: Level = Field(description="level of hub_overflow")
    saturation_level: Level = Field(description="level of hub_sorting_saturation")
    silent_level: Level = Field(description="level of hub_silent")
    level: Level = Field(description="the worst of the hub's levels")
    at: datetime | None = Field(description="the event-time step this state describes")


class SeriesPoint(BaseModel):
    """One minute of a hub's history."""

    model_config = ConfigDict(extra="forbid")

    minute: datetime = Field(description="start of the minute (event time)")
    arrivals: int = Field(description="parcels arrived in the minute")
    departures: int = Field(description="parcels left in the minute")
    backlog: int = Field(description="parcels on hand at the end of the minute")


class HubDetail(HubState):
    """A hub's state plus its per-minute series over recent hours."""

    series: list[SeriesPoint] = Field(
        description="per minute, oldest first; empty when another replica owns the hub"
    )


class HubPage(BaseModel):
    """One page of hubs."""

    model_config = ConfigDict(extra="forbid")

    total: int = Field(description="hubs matching the filters")
    limit: int
    offset: int
    hubs: list[HubState]
