"""Daily reports sent by themselves (table ``report_sends``, ``app.reports.schedule``).

    async with db.sessionmaker.begin() as session:
        if await claim_send(session, key, wall_now=…):   # False: sent, or being sent, elsewhere
            ...send...
            await finish_send(session, key, state="sent", wall_now=…)   # or release_send(…)

One row per (day, province, receiver); ``province`` is ``""`` for the nation's report. A claim
is an insert that does nothing when the row exists, so two replicas, a restart or a replay of
the same days send each report once. A claim still ``sending`` after ``STALE_CLAIM_S`` (the
process died mid-send) may be taken again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import Date, String, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from storage.base import Base

STALE_CLAIM_S = 600.0
SendState = Literal["sending", "sent", "empty", "failed"]


class ReportSendRow(Base):
    """One report to one receiver: ``sending`` (claimed), ``sent``, ``empty`` (no data) or
    ``failed`` (refused for good: bad URL, token or mailbox)."""

    __tablename__ = "report_sends"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    province: Mapped[str] = mapped_column(String(64), primary_key=True)
    receiver: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(8))
    claimed_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


@dataclass(frozen=True)
class SendKey:
    """Which report (``province`` None: the nation's) to which receiver."""

    day: date
    province: str | None
    receiver: str


def _where(key: SendKey) -> tuple[ColumnElement[bool], ...]:
    return (
        ReportSendRow.day == key.day,
        ReportSendRow.province == (key.province or ""),
        ReportSendRow.receiver == key.receiver,
    )


async def claim_send(session: AsyncSession, key: SendKey, *, wall_now: datetime) -> bool:
    """Claim the send of ``key``; False when it is sent, empty, or claimed by a live sender."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(ReportSendRow).values(
        day=key.day,
        province=key.province or "",
        receiver=key.receiver,
        state="sending",
        claimed_at=wall_now,
    )
    result = await session.execute(statement.on_conflict_do_nothing())
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return True
    stale = wall_now - timedelta(seconds=STALE_CLAIM_S)
    taken = await session.execute(
        update(ReportSendRow)
        .where(*_where(key), ReportSendRow.state == "sending", ReportSendRow.claimed_at < stale)
        .values(claimed_at=wall_now)
    )
    return bool(taken.rowcount)  # type: ignore[attr-defined]


async def finish_send(
    session: AsyncSession, key: SendKey, *, state: SendState, wall_now: datetime
) -> None:
    """Mark a claimed send done: ``sent``, ``empty`` (no data; nothing sent) or ``failed``."""
    await session.execute(
        update(ReportSendRow).where(*_where(key)).values(state=state, sent_at=wall_now)
    )


async def release_send(session: AsyncSession, key: SendKey) -> None:
    """Give a claim back after a failed send, so a later step tries again."""
    await session.execute(delete(ReportSendRow).where(*_where(key)))
