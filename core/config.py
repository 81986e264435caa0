"""Every threshold and window of the risk model, with its default (reasons: docs/risk-model.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.errors import ConfigError
from core.sensitivity import WarningSensitivity


class RiskConfig(BaseModel):
    """Windows, event-time rules and rule thresholds. Times in seconds, shares as 0–1 ratios."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # event time
    bucket_horizon_s: int = Field(3 * 3600, gt=0, description="per-minute history kept per hub")
    rate_window_s: int = Field(15 * 60, gt=0, description="sliding window of the rates")
    allowed_lateness_s: int = Field(5 * 60, ge=0, description="watermark = max event time − this")
    evaluation_step_s: int = Field(
        60, gt=0, description="rules and alerts run at every step of event time this long"
    )
    max_future_skew_s: int = Field(
        10 * 60, ge=0, description="later than wall clock + this: quarantined"
    )
    dedup_horizon_s: int = Field(
        6 * 3600, gt=0, description="(carrier, event_id) remembered this long"
    )
    in_transit_horizon_s: int = Field(
        6 * 3600, gt=0, description="in-transit parcels arrive within this"
    )
    max_transit_s: int = Field(
        48 * 3600, gt=0, description="a lane's parcels are forgotten after this"
    )

    # hub_overflow: utilisation floors and ETA ceilings per level
    overflow_utilization: dict[str, float] = Field(
        default_factory=lambda: {"red": 1.0, "orange": 0.9, "yellow": 0.8, "blue": 0.7}
    )
    overflow_eta_s: dict[str, float] = Field(
        default_factory=lambda: {"red": 15.0 * 60, "orange": 60.0 * 60, "yellow": 180.0 * 60}
    )
    # hub_sorting_saturation
    saturation_window_s: int = Field(15 * 60, gt=0)
    saturation_orange_ratio: float = Field(
        3.0, gt=1, description="avg arrivals / capacity for orange (11.11 midnight reaches 2.4)"
    )
    # hub_silent
    silent_yellow_s: int = Field(10 * 60, gt=0)
    silent_orange_s: int = Field(30 * 60, gt=0)
    # province_congestion: capacity-weighted share of hubs at orange or worse
    province_orange_share: float = Field(0.30, gt=0, le=1)
    province_red_share: float = Field(0.50, gt=0, le=1)
    # network_paralysis
    network_key_share: dict[str, float] = Field(
        default_factory=lambda: {"yellow": 0.10, "orange": 0.20, "red": 0.35}
    )
    network_flow_ratio: float = Field(0.6, gt=0, description="departures/arrivals below: orange")
    network_flow_window_s: int = Field(30 * 60, gt=0)
    network_silent_key_share: float = Field(
        0.10, gt=0, le=1, description="key nodes silent: yellow"
    )
    # network_data_outage: share of the hubs that were reporting now silent
    network_outage_share: dict[str, float] = Field(
        default_factory=lambda: {"orange": 0.5, "red": 0.9}
    )
    # key nodes under an orange/red external warning: lower hub_overflow floors (off by default)
    warning_sensitivity: WarningSensitivity = Field(default_factory=WarningSensitivity)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RiskConfig:
        """Build from a settings section; a wrong key or value raises ``ConfigError``."""
        try:
            return cls.model_validate(dict(data))
        except ValueError as error:
            raise ConfigError(f"risk settings: {error}") from error
