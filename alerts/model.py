"""The nouns of alerting: a signal seen at a tick, an alert, a change to an alert.

    Signal        one row of the core's signal frame (``core.signals.SIGNAL_SCHEMA``)
    Alert         one occurrence of a (rule, scope, subject) condition, pending → firing → resolved
    AlertChange   a transition (or an acknowledgement) as recorded in the history and streamed

Times: ``started_at``, ``fired_at``, ``resolved_at``, ``clear_since`` and ``downgrade_since`` are
event time (the watermark); ``acked_at`` and ``firing_wall_at`` are wall-clock time, because
acknowledging and escalating are things people do on the wall clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

AlertState = Literal["pending", "firing", "resolved"]
ACTIVE_STATES: tuple[AlertState, ...] = ("pending", "firing")
ChangeKind = Literal[
    "pending", "firing", "level_changed", "resolved", "cancelled", "acked", "escalated"
]
NotificationKind = Literal["firing", "level_changed", "resolved", "escalation", "reminder"]
LABEL_NAMES: tuple[str, ...] = (
    "rule",
    "scope",
    "subject",
    "level",
    "hub_id",
    "carrier",
    "province",
)
"""Labels an alert can be routed, silenced and filtered by."""


def rfc3339(moment: datetime | None) -> str | None:
    """``2025-11-11T02:00:00Z`` (milliseconds kept when present), or None."""
    if moment is None:
        return None
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Signal:
    """What holds now for one (rule, scope, subject), as the core said at this tick."""

    fingerprint: str
    rule: str
    scope: str
    subject: str
    level: str
    hub_id: str | None
    carrier: str | None
    province: str | None
    summary: str
    summary_en: str
    values_json: str


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert. Immutable: lifecycle decisions return new instances (``dataclasses.replace``)."""

    id: str
    fingerprint: str
    rule: str
    scope: str
    subject: str
    level: str
    state: AlertState
    hub_id: str | None
    carrier: str | None
    province: str | None
    summary: str
    summary_en: str
    values_json: str
    started_at: datetime
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    clear_since: datetime | None = None
    downgrade_since: datetime | None = None
    acked_by: str | None = None
    acked_at: datetime | None = None
    firing_wall_at: datetime | None = None
    escalation_step: int = 0
    detected_late_s: float | None = None  # decided this long (wall) after its data arrived

    def labels(self) -> dict[str, str]:
        """The routing/silencing label set: rule, scope, subject, level and the present labels."""
        labels = {
            "rule": self.rule,
            "scope": self.scope,
            "subject": self.subject,
            "level": self.level,
        }
        for name in ("hub_id", "carrier", "province"):
            value = getattr(self, name)
            if value is not None:
                labels[name] = value
        return labels

    def values(self) -> dict[str, Any]:
        """The numbers behind the alert (``values_json`` parsed; ``{}`` when not an object)."""
        try:
            parsed = json.loads(self.values_json) if self.values_json else {}
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def as_json(self) -> dict[str, Any]:
        """The alert as DESIGN.md fixes it, plus ``fingerprint`` and ``fired_at``."""
        return {
            "id": self.id,
            "fingerprint": self.fingerprint,
            "rule": self.rule,
            "scope": self.scope,
            "subject": self.subject,
            "level": self.level,
            "state": self.state,
            "started_at": rfc3339(self.started_at),
            "fired_at": rfc3339(self.fired_at),
            "resolved_at": rfc3339(self.resolved_at),
            "labels": {k: v for k in ("hub_id", "carrier", "province") if (v := getattr(self, k))},
            "summary": self.summary,
            "summary_en": self.summary_en,
            "values": self.values(),
            "acked_by": self.acked_by,
            "acked_at": rfc3339(self.acked_at),
            "detected_late_s": self.detected_late_s,
        }


@dataclass(frozen=True, slots=True)
class AlertChange:
    """A change to an alert: what happened (``kind``), the alert after it, and when.

    ``event_id`` orders the history (and is the SSE event id; 0 before it is stored); ``at`` is
    event time for lifecycle transitions and wall time for acknowledgements and escalations.
    """

    kind: ChangeKind
    alert: Alert
    at: datetime
    previous_level: str | None = None
    actor: str | None = None
    event_id: int = 0


def alert_from_json(data: dict[str, Any]) -> Alert:
    """The inverse of ``Alert.as_json`` (used for the snapshots kept in the outbox and history).

    The fields the JSON form leaves out (clear/downgrade clocks, escalation state) come back empty.
    """
    labels = data.get("labels") or {}
    return Alert(
        id=data["id"],
        fingerprint=data["fingerprint"],
        rule=data["rule"],
        scope=data["scope"],
        subject=data["subject"],
        level=data["level"],
        state=data["state"],
        hub_id=labels.get("hub_id"),
        carrier=labels.get("carrier"),
        province=labels.get("province"),
        summary=data["summary"],
        summary_en=data["summary_en"],
        values_json=json.dumps(data.get("values") or {}, ensure_ascii=False),
        started_at=_parse_time(data["started_at"]),
        fired_at=_parse_optional_time(data.get("fired_at")),
        resolved_at=_parse_optional_time(data.get("resolved_at")),
        acked_by=data.get("acked_by"),
        acked_at=_parse_optional_time(data.get("acked_at")),
        detected_late_s=data.get("detected_late_s"),
    )


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _parse_optional_time(text: str | None) -> datetime | None:
    return None if text is None else _parse_time(text)
