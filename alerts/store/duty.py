"""The duty roster in the service database (table ``duty_shifts``, made by migration 0006).

    async with db.sessionmaker.begin() as session:
        await replace_roster(session, shifts, by="regulator:3f2a", wall_now=now)
        roster = await shifts_between(session, at, at)     # shifts in force at ``at``

``PUT /v1/duty`` replaces the whole roster: a duty office sends its sheet again when it changes,
so what is stored is always the sheet last sent (who sent it, and when, is kept on each row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Index, String, Text, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from alerts.duty import Shift, on_duty
from alerts.notify.base import NotificationItem
from storage.base import Base, BigId


class DutyShiftRow(Base):
    """One shift of one person (see ``alerts.duty.Shift``)."""

    __tablename__ = "duty_shifts"
    __table_args__ = (Index("ix_duty_shifts_province_starts_at", "province", "starts_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(8))
    province: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(128))
    dingtalk_id: Mapped[str | None] = mapped_column(String(64))
    wecom_id: Mapped[str | None] = mapped_column(String(64))
    feishu_id: Mapped[str | None] = mapped_column(String(64))
    handover_note: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[datetime]
    uploaded_by: Mapped[str] = mapped_column(String(128))


_FIELDS = ("person", "role", "province", "phone", "email", "dingtalk_id", "wecom_id", "feishu_id")


def _shift(row: DutyShiftRow) -> Shift:
    return Shift.model_validate(
        {
            **{name: getattr(row, name) for name in _FIELDS},
            "starts_at": row.starts_at,
            "ends_at": row.ends_at,
            "handover_note": row.handover_note,
        }
    )


async def replace_roster(
    session: AsyncSession, shifts: Sequence[Shift], *, by: str, wall_now: datetime
) -> int:
    """Store ``shifts`` as the whole roster (the previous one is dropped); how many are stored."""
    await session.execute(delete(DutyShiftRow))
    session.add_all(
        DutyShiftRow(
            **shift.model_dump(exclude={"starts_at", "ends_at"}),
            starts_at=shift.starts_at,
            ends_at=shift.ends_at,
            uploaded_at=wall_now,
            uploaded_by=by,
        )
        for shift in shifts
    )
    await session.flush()
    return len(shifts)


async def shifts_between(session: AsyncSession, first: datetime, last: datetime) -> list[Shift]:
    """Every shift in force at some moment from ``first`` to ``last``, earliest first."""
    rows = await session.scalars(
        select(DutyShiftRow)
        .where(DutyShiftRow.starts_at <= last, DutyShiftRow.ends_at > first)
        .order_by(DutyShiftRow.starts_at, DutyShiftRow.id)
    )
    return [_shift(row) for row in rows]


async def all_shifts(session: AsyncSession) -> list[Shift]:
    """The whole roster, earliest first."""
    rows = await session.scalars(
        select(DutyShiftRow).order_by(DutyShiftRow.starts_at, DutyShiftRow.id)
    )
    return [_shift(row) for row in rows]


async def with_duty(
    session: AsyncSession, items: Sequence[NotificationItem], *, wall_now: datetime
) -> list[NotificationItem]:
    """``items`` naming whom each message reaches on the roster at ``wall_now``: the person on
    duty for the alert's province (else the national one), the leader on call for escalations."""
    if not items:
        return []
    roster = await shifts_between(session, wall_now, wall_now)
    return [
        replace(
            item,
            on_duty=on_duty(
                roster,
                item.alert.province,
                wall_now,
                role="leader" if item.kind == "escalation" else "duty",
            ),
        )
        for item in items
    ]
