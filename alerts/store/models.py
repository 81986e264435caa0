"""Tables of the alerts (SQLAlchemy 2 ORM, on ``storage.base.Base``). The schema itself is made
by the migrations in ``storage/migrations``.

alerts            one row per alert occurrence; at most one pending/firing row per fingerprint
alert_events      the history: every transition, acknowledgement and escalation, in order
silences          matchers and the wall-clock window they mute
outbox            every notification, recorded before it is sent, with its delivery state
notification_log  every message actually sent (group interval and rate limits read it)
hub_registry      hubs changed over the API: the current spec per hub (alerts.store.registry)
hub_registry_changes  every registry change: who, when, before, after
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, BigId

ACTIVE_WHERE = "state IN ('pending', 'firing')"


class AlertRow(Base):
    """One alert occurrence (see ``alerts.model.Alert``)."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index(
            "uq_alerts_active_fingerprint",
            "fingerprint",
            unique=True,
            sqlite_where=text(ACTIVE_WHERE),
            postgresql_where=text(ACTIVE_WHERE),
        ),
        Index("ix_alerts_state", "state"),
        Index("ix_alerts_started_at", "started_at", "id"),
        Index("ix_alerts_rule_started_at", "rule", "started_at"),
        Index("ix_alerts_province_started_at", "province", "started_at"),
        Index("ix_alerts_carrier_started_at", "carrier", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(10))
    hub_id: Mapped[str | None] = mapped_column(String(128))
    carrier: Mapped[str | None] = mapped_column(String(32))
    province: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)
    summary_en: Mapped[str] = mapped_column(Text)
    values_json: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    clear_since: Mapped[datetime | None]
    downgrade_since: Mapped[datetime | None]
    acked_by: Mapped[str | None] = mapped_column(String(128))
    acked_at: Mapped[datetime | None]
    firing_wall_at: Mapped[datetime | None]
    escalation_step: Mapped[int] = mapped_column(Integer, default=0)
    detected_late_s: Mapped[float | None]
    updated_at: Mapped[datetime]


class AlertEventRow(Base):
    """One entry of the alert history; ``id`` orders it and is the SSE event id."""

    __tablename__ = "alert_events"
    __table_args__ = (Index("ix_alert_events_alert_id", "alert_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    previous_level: Mapped[str | None] = mapped_column(String(8))
    actor: Mapped[str | None] = mapped_column(String(128))
    alert_json: Mapped[dict[str, Any]] = mapped_column(JSON)


class SilenceRow(Base):
    """A silence: notifications of alerts matching every matcher are suppressed while active."""

    __tablename__ = "silences"
    __table_args__ = (Index("ix_silences_ends_at", "ends_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    matchers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text, default="")
    expired_by: Mapped[str | None] = mapped_column(String(128))


class OutboxRow(Base):
    """A notification to one receiver: ``pending`` until ``sent``, ``failed`` or ``suppressed``."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_outbox_alert_id", "alert_id"),
        Index("ix_outbox_sent_at", "sent_at"),
        Index("uq_outbox_dedup_key", "dedup_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(String(32))
    receiver: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    group_key: Mapped[str] = mapped_column(String(512))
    group_interval_s: Mapped[float] = mapped_column(Float)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(32))  # the leasing pass's token
    dedup_key: Mapped[str | None] = mapped_column(String(160))  # follow-ups: after:<outbox id>
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(BigInteger)


class NotificationLogRow(Base):
    """A message sent to a receiver (one alert, a group, or a digest)."""

    __tablename__ = "notification_log"
    __table_args__ = (Index("ix_notification_log_receiver_sent_at", "receiver", "sent_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    receiver: Mapped[str] = mapped_column(String(64))
    group_key: Mapped[str] = mapped_column(String(512))
    sent_at: Mapped[datetime]
    item_count: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str | None] = mapped_column(String(16))


class HubRegistryRow(Base):
    """A hub's current spec, as last changed over the API."""

    __tablename__ = "hub_registry"

    hub_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    carrier: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(128))


class HubRegistryChangeRow(Base):
    """One change of one hub: who, when (wall clock), the spec before (None: new) and after."""

    __tablename__ = "hub_registry_changes"
    __table_args__ = (Index("ix_hub_registry_changes_hub_id_id", "hub_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    hub_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_key_id: Mapped[str] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)


class EvaluationMarkRow(Base):
    """The last event-time step whose alert decisions are stored, per ``partition:N`` (hub
    alerts) and for ``network`` (province, carrier and network alerts)."""

    __tablename__ = "evaluation_marks"

    scope_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    step_at: Mapped[datetime]
    updated_at: Mapped[datetime]
