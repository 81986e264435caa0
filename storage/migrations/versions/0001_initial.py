"""Initial schema: alerts, history, silences, outbox, notification log, API keys.

Revision ID: 0001
Revises:
Create Date: 2025-11-01
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_ACTIVE = "state IN ('pending', 'firing')"


def _time(name: str, *, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _big_id() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )


def upgrade() -> None:
    """Create every table of the first release."""
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("fingerprint", sa.String(16), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("hub_id", sa.String(128)),
        sa.Column("carrier", sa.String(32)),
        sa.Column("province", sa.String(64)),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("summary_en", sa.Text(), nullable=False),
        sa.Column("values_json", sa.Text(), nullable=False),
        _time("started_at", nullable=False),
        _time("fired_at"),
        _time("resolved_at"),
        _time("clear_since"),
        _time("downgrade_since"),
        sa.Column("acked_by", sa.String(128)),
        _time("acked_at"),
        _time("firing_wall_at"),
        sa.Column("escalation_step", sa.Integer(), nullable=False),
        _time("updated_at", nullable=False),
    )
    op.create_index(
        "uq_alerts_active_fingerprint",
        "alerts",
        ["fingerprint"],
        unique=True,
        sqlite_where=sa.text(_ACTIVE),
        postgresql_where=sa.text(_ACTIVE),
    )
    op.create_index("ix_alerts_state", "alerts", ["state"])
    op.create_index("ix_alerts_started_at", "alerts", ["started_at", "id"])
    op.create_index("ix_alerts_rule_started_at", "alerts", ["rule", "started_at"])
    op.create_index("ix_alerts_province_started_at", "alerts", ["province", "started_at"])
    op.create_index("ix_alerts_carrier_started_at", "alerts", ["carrier", "started_at"])

    op.create_table(
        "alert_events",
        _big_id(),
        sa.Column("alert_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _time("at", nullable=False),
        _time("recorded_at", nullable=False),
        sa.Column("previous_level", sa.String(8)),
        sa.Column("actor", sa.String(128)),
        sa.Column("alert_json", sa.JSON(), nullable=False),
    )
    op.create_index("ix_alert_events_alert_id", "alert_events", ["alert_id"])

    op.create_table(
        "silences",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("matchers", sa.JSON(), nullable=False),
        _time("starts_at", nullable=False),
        _time("ends_at", nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        _time("created_at", nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("expired_by", sa.String(128)),
    )
    op.create_index("ix_silences_ends_at", "silences", ["ends_at"])

    op.create_table(
        "outbox",
        _big_id(),
        sa.Column("alert_id", sa.String(32), nullable=False),
        sa.Column("receiver", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("group_key", sa.String(512), nullable=False),
        sa.Column("group_interval_s", sa.Float(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        _time("created_at", nullable=False),
        _time("next_attempt_at", nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("claimed_until"),
        _time("sent_at"),
        sa.Column("last_error", sa.Text()),
        sa.Column("message_id", sa.BigInteger()),
    )
    op.create_index("ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_alert_id", "outbox", ["alert_id"])
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"])

    op.create_table(
        "notification_log",
        _big_id(),
        sa.Column("receiver", sa.String(64), nullable=False),
        sa.Column("group_key", sa.String(512), nullable=False),
        _time("sent_at", nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(16)),
    )
    op.create_index(
        "ix_notification_log_receiver_sent_at", "notification_log", ["receiver", "sent_at"]
    )

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("key_hash", sa.Text(), nullable=False, unique=True),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("carrier", sa.Text()),
        _time("created_at", nullable=False),
        _time("revoked_at"),
        sa.CheckConstraint(
            "role IN ('admin', 'regulator', 'oncall', 'carrier')", name="ck_api_keys_role"
        ),
    )


def downgrade() -> None:
    """Drop every table of the first release."""
    for table in ("api_keys", "notification_log", "outbox", "silences", "alert_events", "alerts"):
        op.drop_table(table)
