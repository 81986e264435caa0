"""The JSON shapes of alerts, changes and silences on the HTTP API (pydantic, with examples).

The alert fields are the ones DESIGN.md fixes; ``fingerprint`` and ``fired_at`` are added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alerts.delivery.silence import Silence
from alerts.measures import ExternalWarning, Mitigation
from alerts.measures_out import MitigationOut, WarningOut
from alerts.model import Alert, AlertChange, AlertState, ChangeKind
from core.levels import WarningLevel

AlertValue = int | float | str | bool | list[str] | None
"""One number behind an alert (units: core.vocabulary); ``reasons`` is a list of rule parts."""
LabelName = Literal["rule", "scope", "subject", "level", "hub_id", "carrier", "province"]
MAX_SILENCE_S = 30 * 86_400

ALERT_EXAMPLE: dict[str, Any] = {
    "id": "5f0c2b7e9d8a4c1e8b3f6a2d4e7c9b10",
    "fingerprint": "9a1f3c5e7b2d4f60",
    "rule": "hub_overflow",
    "scope": "hub",
    "subject": "ZTO-HZ-01",
    "level": "orange",
    "state": "firing",
    "started_at": "2025-11-11T13:58:00Z",
    "fired_at": "2025-11-11T14:00:00Z",
    "resolved_at": None,
    "labels": {"hub_id": "ZTO-HZ-01", "carrier": "ZTO", "province": "浙江"},
    "summary": "杭州转运中心 利用率 91%，预计 48 分钟后爆仓",
    "summary_en": "Hangzhou hub at 91% of capacity, overflow in 48 min",
    "values": {"utilization": 0.91, "backlog": 455000, "time_to_overflow_s": 2880},
    "acked_by": None,
    "acked_at": None,
}


class AlertLabelsOut(BaseModel):
    """Labels that apply to the alert's subject."""

    model_config = ConfigDict(extra="forbid")

    hub_id: str | None = None
    carrier: str | None = None
    province: str | None = None


class AlertOut(BaseModel):
    """One alert. Times are RFC 3339; ``started_at``/``fired_at``/``resolved_at`` are event time,
    ``acked_at`` wall-clock time."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ALERT_EXAMPLE]})

    id: str = Field(description="this occurrence of the alert")
    fingerprint: str = Field(description="stable per (rule, scope, subject) across occurrences")
    rule: str = Field(description="rule id, e.g. hub_overflow (names: core.vocabulary)")
    scope: Literal["hub", "province", "carrier", "network"]
    subject: str = Field(description="hub id, province, carrier code or CN")
    level: WarningLevel
    state: AlertState
    started_at: datetime = Field(description="when the condition began to hold")
    fired_at: datetime | None = Field(description="when it fired (after the pending period)")
    resolved_at: datetime | None = Field(description="when the condition stopped holding")
    labels: AlertLabelsOut
    summary: str = Field(description="Chinese text, numbers with units, Beijing time")
    summary_en: str = Field(description="the same in English")
    values: dict[str, AlertValue] = Field(description="the numbers behind the alert")
    acked_by: str | None = Field(description="who acknowledged it")
    acked_at: datetime | None = Field(description="when (wall clock)")
    detected_late_s: float | None = Field(
        None,
        description="set when the alert was decided while catching up (after a restart, a lag"
        " or an outage): how many wall-clock seconds its data had waited; started_at is still"
        " the event time it began",
    )

    mitigations: list[MitigationOut] = Field(
        default_factory=list,
        description="hub alerts: the carrier's measures for the hub in force during the alert",
    )
    warnings: list[WarningOut] = Field(
        default_factory=list,
        description="external warnings of the alert's province (or its hub's city) valid"
        " during the alert, worst colour first",
    )

    @classmethod
    def of(
        cls,
        alert: Alert,
        *,
        mitigations: Sequence[Mitigation] = (),
        warnings: Sequence[ExternalWarning] = (),
    ) -> AlertOut:
        """From the domain object, with the measures and warnings that apply to it."""
        out = cls.model_validate(alert.as_json())
        out.mitigations = [MitigationOut.of(m) for m in mitigations]
        out.warnings = [WarningOut.of(w) for w in warnings]
        return out


class AlertPageOut(BaseModel):
    """A page of alerts, newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"alerts": [ALERT_EXAMPLE], "next_cursor": None}]},
    )

    alerts: list[AlertOut]
    next_cursor: str | None


class AlertChangeOut(BaseModel):
    """One entry of the alert history, as streamed (``data`` of a server-sent event)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "event_id": 42,
                    "kind": "level_changed",
                    "at": "2025-11-11T14:20:00Z",
                    "previous_level": "yellow",
                    "actor": None,
                    "alert": ALERT_EXAMPLE,
                }
            ]
        },
    )

    event_id: int
    kind: ChangeKind
    at: datetime
    previous_level: str | None
    actor: str | None = Field(description="who acknowledged, or the receivers escalated to")
    alert: AlertOut

    @classmethod
    def of(cls, change: AlertChange) -> AlertChangeOut:
        """From the domain object."""
        return cls(**{**asdict(change), "alert": AlertOut.of(change.alert)})


class MatcherModel(BaseModel):
    """One label condition: equal/not equal to ``value``, or (``is_regex``) matching it fully."""

    model_config = ConfigDict(extra="forbid")

    name: LabelName
    value: Annotated[str, Field(max_length=256)]
    is_regex: bool = False
    is_equal: bool = True


class SilenceIn(BaseModel):
    """A new silence: matchers, and ``ends_at`` or ``duration_s``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "matchers": [
                        {"name": "rule", "value": "hub_silent"},
                        {"name": "province", "value": "浙江|江苏", "is_regex": True},
                    ],
                    "duration_s": 3600,
                    "comment": "计划停电检修 / planned power work",
                }
            ]
        },
    )

    matchers: Annotated[list[MatcherModel], Field(min_length=1, max_length=20)]
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    duration_s: Annotated[float | None, Field(gt=0, le=MAX_SILENCE_S)] = None
    comment: Annotated[str, Field(max_length=1000)] = ""

    @model_validator(mode="after")
    def _one_end(self) -> SilenceIn:
        if (self.ends_at is None) == (self.duration_s is None):
            raise ValueError("give exactly one of ends_at and duration_s")
        return self


class SilenceOut(BaseModel):
    """A silence; ``expired_by`` names who ended it early (``DELETE``)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    matchers: list[MatcherModel]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    created_at: datetime
    comment: str
    expired_by: str | None

    @classmethod
    def of(cls, silence: Silence) -> SilenceOut:
        """From the domain object."""
        return cls.model_validate(silence.as_json())
