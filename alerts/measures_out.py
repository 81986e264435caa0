"""The JSON shapes of courier mitigations and external warnings, as the API answers them and as
every alert carries them (``AlertOut.mitigations``, ``AlertOut.warnings``).

Kinds and colours are English codes; ``kind_zh``/``kind_en`` (and ``colour_zh``) give the words.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from pydantic import BaseModel, Field

from alerts.measures import (
    MITIGATION_KINDS,
    WARNING_COLOURS,
    WARNING_KINDS,
    ExternalWarning,
    Mitigation,
    MitigationEffect,
    MitigationKind,
    WarningColour,
    WarningKind,
)
from alerts.measures_text import effect_sentence


class MitigationEffectOut(BaseModel):
    """What the hub's numbers did between the start and the end of a measure."""

    net_inflow_before_per_min: float | None = Field(description="when the measure began")
    net_inflow_after_per_min: float | None = Field(description="when it ended")
    time_to_overflow_before_s: float | None
    time_to_overflow_after_s: float | None = Field(description="null: no overflow expected")
    net_inflow_improved: bool | None = Field(description="null when a side is unknown")
    time_to_overflow_improved: bool | None
    summary: str = Field(examples=["净流入 900→200 件/分，已改善；爆仓时间 60→240 分钟，已改善"])
    summary_en: str

    @classmethod
    def of(cls, effect: MitigationEffect) -> MitigationEffectOut:
        """From the domain object, with its sentences."""
        zh, en = effect_sentence(effect, "zh"), effect_sentence(effect, "en")
        return cls(**asdict(effect), summary=zh, summary_en=en)


class MitigationOut(BaseModel):
    """A carrier's measure for one of its hubs. Times are RFC 3339."""

    id: int
    hub_id: str
    carrier: str
    kind: MitigationKind
    kind_zh: str = Field(examples=["限流"])
    kind_en: str = Field(examples=["throttling intake"])
    starts_at: datetime
    planned_end_at: datetime
    ended_at: datetime | None = Field(description="set when the measure was ended")
    expected_effect: str
    note: str
    declared_by: str
    declared_at: datetime
    ended_by: str | None
    effect: MitigationEffectOut | None = Field(description="set when the measure has ended")

    @classmethod
    def of(cls, mitigation: Mitigation) -> MitigationOut:
        """From the domain object."""
        zh, en = MITIGATION_KINDS[mitigation.kind]
        effect = None if mitigation.effect is None else MitigationEffectOut.of(mitigation.effect)
        fields = {**asdict(mitigation), "effect": effect}
        return cls(**fields, kind_zh=zh, kind_en=en)


class WarningOut(BaseModel):
    """A weather or other external warning for a province, or one city (``city``)."""

    id: int
    kind: WarningKind
    kind_zh: str = Field(examples=["台风"])
    kind_en: str = Field(examples=["typhoon"])
    colour: WarningColour
    colour_zh: str = Field(examples=["橙色"])
    province: str
    city: str | None = Field(description="null: the whole province")
    valid_from: datetime
    valid_to: datetime
    source: str
    text: str
    recorded_by: str
    recorded_at: datetime

    @classmethod
    def of(cls, warning: ExternalWarning) -> WarningOut:
        """From the domain object."""
        kind_zh, kind_en = WARNING_KINDS[warning.kind]
        colour_zh = WARNING_COLOURS[warning.colour][0]
        return cls(**asdict(warning), kind_zh=kind_zh, kind_en=kind_en, colour_zh=colour_zh)
