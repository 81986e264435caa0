"""Reads and writes of silences. Deleting a silence expires it (``ends_at`` = now), so the
history of who muted what, when, stays queryable — as Alertmanager does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from alerts.delivery.silence import Matcher, Silence
from alerts.store.models import SilenceRow


def to_silence(row: SilenceRow) -> Silence:
    """The domain object of a row."""
    return Silence(
        id=row.id,
        matchers=tuple(Matcher(**matcher) for matcher in row.matchers),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        created_by=row.created_by,
        created_at=row.created_at,
        comment=row.comment,
        expired_by=row.expired_by,
    )


async def insert_silence(session: AsyncSession, silence: Silence) -> None:
    """Store a new silence."""
    session.add(
        SilenceRow(
            id=silence.id,
            matchers=[matcher.as_json() for matcher in silence.matchers],
            starts_at=silence.starts_at,
            ends_at=silence.ends_at,
            created_by=silence.created_by,
            created_at=silence.created_at,
            comment=silence.comment,
        )
    )


async def silences_in_force(session: AsyncSession, *, now: datetime) -> list[Silence]:
    """Silences whose window has not ended (including ones that start later)."""
    rows = await session.scalars(select(SilenceRow).where(SilenceRow.ends_at > now))
    return [to_silence(row) for row in rows]


async def list_silences(
    session: AsyncSession, *, now: datetime, include_expired: bool
) -> list[Silence]:
    """Silences, newest first; only those in force unless ``include_expired``."""
    statement = select(SilenceRow).order_by(SilenceRow.created_at.desc())
    if not include_expired:
        statement = statement.where(SilenceRow.ends_at > now)
    return [to_silence(row) for row in await session.scalars(statement)]


async def get_silence(session: AsyncSession, silence_id: str) -> Silence | None:
    """One silence by id."""
    row = await session.get(SilenceRow, silence_id)
    return None if row is None else to_silence(row)


async def expire_silence(session: AsyncSession, silence_id: str, *, by: str, now: datetime) -> None:
    """End a silence now (a no-op for one already over)."""
    await session.execute(
        update(SilenceRow)
        .where(SilenceRow.id == silence_id, SilenceRow.ends_at > now)
        .values(ends_at=now, expired_by=by)
        .execution_options(synchronize_session=False)
    )
