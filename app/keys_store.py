"""The ``api_keys`` table and the only queries of it: find a live key, store one, revoke one.

Only a key's SHA-256 hex is stored. Migration 0001 (``storage/migrations``) made the table; it is
declared here, on the shared ``storage.base.Base``, because the app owns its keys.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import CheckConstraint, Text, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from app.api.deps import Principal, Role
from storage.base import Base


class ApiKeyRow(Base):
    """An API key: its id, the hash of its secret, its role (``Role``) and, for carrier keys,
    the carrier; ``revoked_at`` is set once it is revoked."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'regulator', 'oncall', 'carrier')", name="ck_api_keys_role"
        ),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    key_hash: Mapped[str] = mapped_column(Text, unique=True)
    role: Mapped[str] = mapped_column(Text)
    carrier: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


async def find_live(engine: AsyncEngine, key_hash: str) -> Principal | None:
    """The principal of the key with this hash, or None when there is none or it is revoked."""
    query = select(ApiKeyRow.id, ApiKeyRow.role, ApiKeyRow.carrier).where(
        ApiKeyRow.key_hash == key_hash, ApiKeyRow.revoked_at.is_(None)
    )
    async with engine.connect() as connection:
        row = (await connection.execute(query)).first()
    if row is None:
        return None
    # ck_api_keys_role holds the column to the four roles.
    return Principal(key_id=row.id, role=cast(Role, row.role), carrier=row.carrier)


async def add(
    engine: AsyncEngine,
    *,
    key_id: str,
    key_hash: str,
    role: Role,
    carrier: str | None,
    created_at: datetime,
) -> None:
    """Store a new key (live until revoked)."""
    values = {
        "id": key_id,
        "key_hash": key_hash,
        "role": role,
        "carrier": carrier,
        "created_at": created_at,
    }
    async with engine.begin() as connection:
        await connection.execute(insert(ApiKeyRow).values(values))


async def revoke(engine: AsyncEngine, key_id: str, at: datetime) -> bool:
    """Mark the live key ``key_id`` revoked at ``at``; False when there is no such live key."""
    statement = (
        update(ApiKeyRow)
        .where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    async with engine.begin() as connection:
        result = await connection.execute(statement)
    return bool(result.rowcount)
