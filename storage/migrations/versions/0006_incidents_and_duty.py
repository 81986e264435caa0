"""Incidents, their reports, and the duty roster (issue 14): ``incidents`` (one per alert that
opened one), ``incident_reports`` (first report, follow-ups, final report: draft, deadline,
submission, escalation) and ``duty_shifts`` (who is on duty or leader on call, per province).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def _id() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )


def _time(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create ``incidents``, ``incident_reports`` and ``duty_shifts``."""
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("alert_id", sa.String(32), nullable=False, unique=True),
        _time("opened_at"),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("carrier", sa.String(32), nullable=True),
        sa.Column("province", sa.String(64), nullable=True),
        sa.Column("hub_id", sa.String(128), nullable=True),
        _time("resolved_at", nullable=True),
    )
    op.create_index("ix_incidents_state_opened_at", "incidents", ["state", "opened_at"])
    op.create_table(
        "incident_reports",
        _id(),
        sa.Column("incident_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        _time("at"),
        _time("due_at"),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("draft_text", sa.Text(), nullable=False),
        sa.Column("draft_text_en", sa.Text(), nullable=False),
        sa.Column("draft_fields", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=True),
        _time("submitted_at", nullable=True),
        sa.Column("submitted_by", sa.String(128), nullable=True),
        _time("escalated_at", nullable=True),
        sa.Column("escalated_to", sa.JSON(), nullable=True),
    )
    op.create_index(
        "uq_incident_reports_key", "incident_reports", ["incident_id", "kind", "at"], unique=True
    )
    op.create_index(
        "ix_incident_reports_due", "incident_reports", ["submitted_at", "escalated_at", "due_at"]
    )
    op.create_table(
        "duty_shifts",
        _id(),
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("province", sa.String(64), nullable=False),
        _time("starts_at"),
        _time("ends_at"),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("email", sa.String(128), nullable=True),
        sa.Column("dingtalk_id", sa.String(64), nullable=True),
        sa.Column("wecom_id", sa.String(64), nullable=True),
        sa.Column("feishu_id", sa.String(64), nullable=True),
        sa.Column("handover_note", sa.Text(), nullable=False),
        _time("uploaded_at"),
        sa.Column("uploaded_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_duty_shifts_province_starts_at", "duty_shifts", ["province", "starts_at"])


def downgrade() -> None:
    """Drop them again."""
    op.drop_index("ix_duty_shifts_province_starts_at", table_name="duty_shifts")
    op.drop_table("duty_shifts")
    op.drop_index("ix_incident_reports_due", table_name="incident_reports")
    op.drop_index("uq_incident_reports_key", table_name="incident_reports")
    op.drop_table("incident_reports")
    op.drop_index("ix_incidents_state_opened_at", table_name="incidents")
    op.drop_table("incidents")
