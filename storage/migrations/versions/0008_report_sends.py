"""Daily reports sent by themselves (``report_sends``: one row per day, province and receiver,
claimed before the send so that a replay or a second replica sends each report once), issue 14.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``report_sends``."""
    op.create_table(
        "report_sends",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("province", sa.String(64), primary_key=True),
        sa.Column("receiver", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    """Drop it again."""
    op.drop_table("report_sends")
