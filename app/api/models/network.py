"""``GET /v1/network`` and ``GET /v1/provinces``: every field of the roll-ups of core.rollups.

Counts are hubs or parcels; rates are parcels per minute; ratios are fractions (0.25 = 25 %).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from core.levels import Level


class Rollup(BaseModel):
    """The sums and shares over a set of hubs (the nation, a province)."""

    model_config = ConfigDict(extra="forbid")

    hubs: int = Field(description="registered hubs")
    hubs_reporting: int = Field(description="hubs heard from at least once")
    hubs_unknown: int = Field(description="hubs at level unknown (never heard from)")
    hubs_none: int = Field(description="hubs at level none")
    hubs_blue: int = Field(description="hubs at level blue")
    hubs_yellow: int = Field(description="hubs at level yellow")
    hubs_orange: int = Field(description="hubs at level orange")
    hubs_red: int = Field(description="hubs at level red")
    backlog: int = Field(description="parcels on hand, summed")
    storage_capacity: int = Field(description="parcels the hubs can hold, summed")
    arrivals_per_min: float = Field(description="parcels arriving per minute, summed")
    departures_per_min: float = Field(description="parcels leaving per minute, summed")
    arrivals_30m: int = Field(description="parcels arrived in the last 30 minutes (event time)")
    departures_30m: int = Field(description="parcels left in the last 30 minutes (event time)")
    orange_capacity_ratio: float = Field(
        description="share of reporting hubs' storage capacity at overflow orange or red"
    )
    key_nodes: int = Field(description="key nodes (重要节点) among the hubs")
    key_nodes_orange_capacity_ratio: float = Field(
        description="share of reporting key nodes' capacity at overflow orange or red"
    )
    key_nodes_silent_ratio: float = Field(description="share of reporting key nodes gone silent")
    hubs_silent_ratio: float = Field(description="share of reporting hubs gone silent")
    worst_hub_level: Level = Field(description="the worst level of any hub")
    utilization: float = Field(description="backlog / storage_capacity")
    departure_arrival_ratio: float | None = Field(
        description="departures_30m / arrivals_30m; null without arrivals"
    )


class NetworkStatus(Rollup):
    """The national view at the watermark."""

    view: str = Field(description='"national", or "carrier:<CODE>" for a carrier key')
    watermark: str | None = Field(description="event-time watermark, RFC 3339; null before data")
    level: str = Field(description="network_paralysis level, or none (carrier keys: none)")


class ProvinceStatus(Rollup):
    """One province's roll-up."""

    province: str = Field(description="province name, as in the hub registry (e.g. 浙江)")
