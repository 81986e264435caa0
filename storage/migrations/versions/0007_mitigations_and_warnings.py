"""Courier mitigations (``mitigations``: a carrier's measure for one of its hubs, and what it
did when it ended) and external warnings (``external_warnings``: weather and other warnings per
province or city, with colour and validity), issue 14.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create ``mitigations`` and ``external_warnings``."""
    op.create_table(
        "mitigations",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("carrier", sa.String(32), nullable=False),
        sa.Column("hub_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _when("starts_at"),
        _when("planned_end_at"),
        sa.Column("expected_effect", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("declared_by", sa.String(128), nullable=False),
        _when("declared_at"),
        _when("ended_at", nullable=True),
        sa.Column("ended_by", sa.String(128), nullable=True),
        sa.Column("effect", sa.JSON(), nullable=True),
    )
    op.create_index("ix_mitigations_hub_id_starts_at", "mitigations", ["hub_id", "starts_at"])
    op.create_table(
        "external_warnings",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("colour", sa.String(8), nullable=False),
        sa.Column("province", sa.String(64), nullable=False),
        sa.Column("city", sa.String(64), nullable=True),
        _when("valid_from"),
        _when("valid_to"),
        sa.Column("source", sa.String(256), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        _when("recorded_at"),
    )
    op.create_index(
        "ix_external_warnings_province_valid_to", "external_warnings", ["province", "valid_to"]
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_index("ix_external_warnings_province_valid_to", table_name="external_warnings")
    op.drop_table("external_warnings")
    op.drop_index("ix_mitigations_hub_id_starts_at", table_name="mitigations")
    op.drop_table("mitigations")
