"""Hub registry: the current entry of every hub changed over ``PUT /v1/hubs/{hub_id}`` (so a
change can reach every replica and survive restarts), and every change with who, when (wall
clock), before and after.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``hub_registry`` and ``hub_registry_changes``."""
    op.create_table(
        "hub_registry",
        sa.Column("hub_id", sa.String(64), primary_key=True),
        sa.Column("carrier", sa.String(16), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "hub_registry_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("hub_id", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("actor_key_id", sa.String(128), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=False),
    )
    op.create_index("ix_hub_registry_changes_hub_id_id", "hub_registry_changes", ["hub_id", "id"])


def downgrade() -> None:
    """Drop them again."""
    op.drop_index("ix_hub_registry_changes_hub_id_id", table_name="hub_registry_changes")
    op.drop_table("hub_registry_changes")
    op.drop_table("hub_registry")
