"""External warnings in the service database (table ``external_warnings``, migration 0007).

    async with db.sessionmaker.begin() as session:
        warning = await insert_warning(session, new)
        page = await list_warnings(session, province="黑龙江", valid_at=at)
        rows = await warnings_for_provinces(session, {"黑龙江", "浙江"})  # a page of alerts

Warnings are public information: no query filters by who asks.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import polars as pl
from sqlalchemy import Index, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from alerts.measures import ExternalWarning
from alerts.store.rows import field_values, from_row
from core.sensitivity import WARNINGS_SCHEMA
from storage.base import Base, BigId


class ExternalWarningRow(Base):
    """One warning (see ``alerts.measures.ExternalWarning``)."""

    __tablename__ = "external_warnings"
    __table_args__ = (Index("ix_external_warnings_province_valid_to", "province", "valid_to"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    colour: Mapped[str] = mapped_column(String(8))
    province: Mapped[str] = mapped_column(String(64))
    city: Mapped[str | None] = mapped_column(String(64))
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(256))
    text: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[datetime]


async def insert_warning(session: AsyncSession, warning: ExternalWarning) -> ExternalWarning:
    """Store a new warning (its ``id`` is ignored); the warning as stored, with its id."""
    row = ExternalWarningRow(**field_values(warning, leave_out=("id",)))
    session.add(row)
    await session.flush()
    return from_row(ExternalWarning, row)


async def list_warnings(
    session: AsyncSession,
    *,
    province: str | None = None,
    valid_at: datetime | None = None,
    limit: int = 200,
) -> list[ExternalWarning]:
    """Warnings, newest validity first; only ``province``'s, or those valid at ``valid_at``."""
    query = select(ExternalWarningRow)
    if province is not None:
        query = query.where(ExternalWarningRow.province == province)
    if valid_at is not None:
        query = query.where(
            ExternalWarningRow.valid_from <= valid_at, ExternalWarningRow.valid_to > valid_at
        )
    rows = await session.scalars(
        query.order_by(ExternalWarningRow.valid_from.desc(), ExternalWarningRow.id.desc()).limit(
            limit
        )
    )
    return [from_row(ExternalWarning, row) for row in rows]


async def warnings_for_provinces(
    session: AsyncSession, provinces: Collection[str]
) -> list[ExternalWarning]:
    """Every warning of these provinces (one query for a page of alerts)."""
    if not provinces:
        return []
    rows = await session.scalars(
        select(ExternalWarningRow).where(ExternalWarningRow.province.in_(sorted(provinces)))
    )
    return [from_row(ExternalWarning, row) for row in rows]


async def warnings_frame(session: AsyncSession, *, valid_after: datetime) -> pl.DataFrame:
    """Warnings still valid after ``valid_after`` as the core's frame (``WARNINGS_SCHEMA``):
    what ``core.sensitivity`` reads to raise key nodes' sensitivity."""
    rows = await session.scalars(
        select(ExternalWarningRow).where(ExternalWarningRow.valid_to > valid_after)
    )
    return pl.DataFrame(
        [
            {
                "province": row.province,
                "city": row.city,
                "colour": row.colour,
                "valid_from_ms": int(row.valid_from.timestamp() * 1000),
                "valid_to_ms": int(row.valid_to.timestamp() * 1000),
            }
            for row in rows
        ],
        schema=WARNINGS_SCHEMA,
    )
