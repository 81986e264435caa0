"""The daily report (一日一报, issue 14): ``hub_hours``, one row per hub and event-time hour
(arrivals, departures, backlog at the hour's end and its maximum, worst level, silence).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``hub_hours``."""
    op.create_table(
        "hub_hours",
        sa.Column("hour_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("hub_id", sa.String(64), primary_key=True),
        sa.Column("carrier", sa.String(32), nullable=False),
        sa.Column("province", sa.String(64), nullable=False),
        sa.Column("storage_capacity", sa.BigInteger(), nullable=False),
        sa.Column("arrivals", sa.BigInteger(), nullable=False),
        sa.Column("departures", sa.BigInteger(), nullable=False),
        sa.Column("backlog_end", sa.BigInteger(), nullable=True),
        sa.Column("backlog_end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("backlog_max", sa.BigInteger(), nullable=True),
        sa.Column("level_rank", sa.SmallInteger(), nullable=True),
        sa.Column("silent_max_s", sa.Float(), nullable=True),
    )
    op.create_index("ix_hub_hours_province_hour_start", "hub_hours", ["province", "hour_start"])


def downgrade() -> None:
    """Drop it again."""
    op.drop_index("ix_hub_hours_province_hour_start", table_name="hub_hours")
    op.drop_table("hub_hours")
