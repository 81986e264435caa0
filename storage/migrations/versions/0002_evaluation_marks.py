"""Evaluation marks: the last event-time step whose alert decisions are stored, per partition
(hub alerts) and for the network (province, carrier and network alerts). A replayed step at or
before its mark is not decided again, so recovery never re-pages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``evaluation_marks``; mark ``alerts`` found late (decided long after their step)."""
    op.create_table(
        "evaluation_marks",
        sa.Column("scope_key", sa.String(64), primary_key=True),
        sa.Column("step_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("detected_late_s", sa.Float(), nullable=True))


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("detected_late_s")
    op.drop_table("evaluation_marks")
