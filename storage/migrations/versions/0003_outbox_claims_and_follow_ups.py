"""Outbox claims and follow-ups: who holds a row's lease, and a key that makes a follow-up
notification (a reminder, or the page after a silence) unique.

- ``claimed_by``: the claim token of the delivery pass holding the lease. A pass renews its
  rows' lease right before each send, only while the token is still its own, so a pass slower
  than the lease never sends a row another replica has taken over.
- ``dedup_key``: ``after:<outbox id>`` on a follow-up, the row it follows. Unique, so replicas
  that decide the same follow-up at once record it once (``INSERT … ON CONFLICT DO NOTHING``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``outbox.claimed_by`` and ``outbox.dedup_key`` (unique; NULL for ordinary rows)."""
    op.add_column("outbox", sa.Column("claimed_by", sa.String(32), nullable=True))
    op.add_column("outbox", sa.Column("dedup_key", sa.String(160), nullable=True))
    op.create_index("uq_outbox_dedup_key", "outbox", ["dedup_key"], unique=True)


def downgrade() -> None:
    """Drop them again."""
    op.drop_index("uq_outbox_dedup_key", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("dedup_key")
        batch.drop_column("claimed_by")
