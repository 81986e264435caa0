"""The notification outbox: every notification is a row before anything is sent.

A row is written in the same transaction as the alert transition that caused it, so a crash can
lose neither. Delivery then works on rows only:

    pending ──claim (lease)──► sent            delivered; ``message_id`` names the message
                          ├──► pending         retryable failure: attempts + 1, back-off
                          ├──► failed          not retryable, or retried past ``give_up_after_s``
                          └──► suppressed      a silence muted it, or an escalation or reminder
                                               of an alert acknowledged (or resolved) meanwhile

This module reads and writes the rows; ``delivery.retry`` decides when a failed one is tried again.

A claim is a lease (``claimed_until``) held by one pass (``claimed_by``, its token): if the
process dies mid-send the lease runs out and the rows are due again, so delivery is at least
once; receivers get a stable notification id (the webhook's ``X-Peakwatch-Notification-Id``) to
drop the rare duplicate. A pass renews the lease of a message's rows right before sending it
(``renew``), only while the token is still its own: a pass slower than the lease skips the rows
another deliverer took over instead of sending them a second time.

Follow-ups (a reminder, the page after a silence) carry ``dedup_key`` = ``after:<id>`` of the row
they follow; the key is unique, so replicas deciding the same follow-up record it once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from alerts.config import OutboxSettings
from alerts.delivery.silence import MUTED_PREFIX
from alerts.model import Alert, NotificationKind, alert_from_json
from alerts.notify.base import Notification, NotificationItem
from alerts.store.models import AlertRow, NotificationLogRow, OutboxRow

KEYED_CHUNK = 500  # follow-ups per INSERT: 500 × 12 columns stays under the drivers' limits


@dataclass(frozen=True, slots=True)
class NewNotification:
    """A notification to record: this alert, this change, to this receiver, in this group."""

    alert: Alert
    kind: NotificationKind
    receiver: str
    group_key: str
    group_wait_s: float
    group_interval_s: float
    previous_level: str | None = None
    firing_for_s: float | None = None
    dedup_key: str | None = None
    """Set on follow-ups: a second row with the same key is not recorded."""


async def enqueue(
    session: AsyncSession, notifications: Sequence[NewNotification], *, wall_now: datetime
) -> int:
    """Record notifications (first attempt after their group wait); how many were recorded
    (a follow-up whose ``dedup_key`` is already there is not)."""
    plain = [_values(n, wall_now) for n in notifications if n.dedup_key is None]
    keyed = [_values(n, wall_now) for n in notifications if n.dedup_key is not None]
    if plain:
        await session.execute(insert(OutboxRow), plain)
    recorded = len(plain)
    if not keyed:
        return recorded
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for start in range(0, len(keyed), KEYED_CHUNK):  # RETURNING: the rows this call recorded
        statement = (
            dialect.insert(OutboxRow)
            .values(keyed[start : start + KEYED_CHUNK])
            .on_conflict_do_nothing()
            .returning(OutboxRow.id)
        )
        recorded += len((await session.execute(statement)).all())
    return recorded


def _values(n: NewNotification, wall_now: datetime) -> dict[str, object]:
    payload: dict[str, object] = {"alert": n.alert.as_json(), "previous_level": n.previous_level}
    if n.firing_for_s is not None:
        payload["firing_for_s"] = n.firing_for_s
    return {
        "alert_id": n.alert.id,
        "receiver": n.receiver,
        "kind": n.kind,
        "group_key": n.group_key,
        "group_interval_s": n.group_interval_s,
        "payload": payload,
        "state": "pending",
        "created_at": wall_now,
        "next_attempt_at": wall_now + timedelta(seconds=n.group_wait_s),
        "attempts": 0,
        "dedup_key": n.dedup_key,
    }


def _item(row: OutboxRow) -> NotificationItem:
    return NotificationItem(
        outbox_id=row.id,
        receiver=row.receiver,
        group_key=row.group_key,
        group_interval_s=row.group_interval_s,
        kind=row.kind,  # type: ignore[arg-type]  # written from NotificationKind only
        alert=alert_from_json(row.payload["alert"]),
        previous_level=row.payload.get("previous_level"),
        created_at=row.created_at,
        attempts=row.attempts,
        firing_for_s=row.payload.get("firing_for_s"),
    )


async def claim_due(
    session: AsyncSession, *, wall_now: datetime, settings: OutboxSettings, claimant: str
) -> list[NotificationItem]:
    """Lease up to ``batch_limit`` rows to ``claimant`` (a pass's token): those due, and the
    pending rows of their groups.

    A group flushes whole when its oldest row's group wait is over (as in Alertmanager): rows
    that joined the group later ride along instead of waiting out their own group wait.
    """
    free = (
        OutboxRow.state == "pending",
        or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < wall_now),
    )
    due_groups = select(OutboxRow.receiver, OutboxRow.group_key).where(
        *free, OutboxRow.next_attempt_at <= wall_now
    )
    candidates = (
        select(OutboxRow.id)
        .where(
            *free,
            or_(
                OutboxRow.next_attempt_at <= wall_now,
                tuple_(OutboxRow.receiver, OutboxRow.group_key).in_(due_groups),
            ),
        )
        .order_by(OutboxRow.next_attempt_at)
        .limit(settings.batch_limit)
    )
    statement = (
        update(OutboxRow)
        .where(OutboxRow.id.in_(candidates.scalar_subquery()), *free)
        .values(claimed_until=wall_now + timedelta(seconds=settings.lease_s), claimed_by=claimant)
        .returning(OutboxRow)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.scalars(statement)).all()
    return sorted((_item(row) for row in rows), key=lambda item: item.outbox_id)


async def renew(
    session: AsyncSession,
    ids: Sequence[int],
    *,
    claimant: str,
    wall_now: datetime,
    settings: OutboxSettings,
) -> bool:
    """Extend the lease of rows ``claimant`` still holds; True when it holds every one of them.

    When another deliverer took some over (the lease ran out during a slow pass), the rows this
    claimant still holds are released instead, and the message must not be sent.
    """
    mine = (OutboxRow.id.in_(ids), OutboxRow.claimed_by == claimant, OutboxRow.state == "pending")
    result = await session.execute(
        update(OutboxRow)
        .where(*mine)
        .values(claimed_until=wall_now + timedelta(seconds=settings.lease_s))
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) == len(set(ids)):
        return True
    await session.execute(
        update(OutboxRow)
        .where(*mine)
        .values(claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return False


async def log_message(
    session: AsyncSession, notification: Notification, *, wall_now: datetime
) -> int:
    """Record a sent message in the notification log; its id."""
    row = NotificationLogRow(
        receiver=notification.receiver,
        group_key=notification.group_key,
        sent_at=wall_now,
        item_count=len(notification.items),
        digest=notification.digest,
    )
    session.add(row)
    await session.flush()
    return row.id


async def mark_sent(
    session: AsyncSession, ids: Sequence[int], *, wall_now: datetime, message_id: int
) -> None:
    """Rows delivered in message ``message_id``."""
    await session.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_(ids))
        .values(state="sent", sent_at=wall_now, message_id=message_id, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


async def mark_failed(session: AsyncSession, ids: Sequence[int], *, error: str) -> None:
    """Rows that will never be delivered (the error says why)."""
    await session.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_(ids))
        .values(state="failed", last_error=error[:2000], claimed_until=None)
        .execution_options(synchronize_session=False)
    )


async def mark_suppressed(session: AsyncSession, reasons: Mapping[int, str]) -> None:
    """Rows muted by a silence or an acknowledgement (``last_error`` keeps the reason)."""
    rows = [
        {"id": i, "state": "suppressed", "last_error": why, "claimed_until": None}
        for i, why in reasons.items()
    ]
    if rows:
        await session.execute(update(OutboxRow), rows)


@dataclass(frozen=True, slots=True)
class NextAttempt:
    """Try row ``outbox_id`` again at ``at``; ``attempts`` have failed so far."""

    outbox_id: int
    attempts: int
    at: datetime


async def retry_at(session: AsyncSession, retries: Sequence[NextAttempt], *, error: str) -> None:
    """Release rows for another attempt at the given times (``delivery.retry`` decides them);
    ``last_error`` keeps why the last one failed."""
    rows = [
        {
            "id": retry.outbox_id,
            "attempts": retry.attempts,
            "next_attempt_at": retry.at,
            "claimed_until": None,
            "last_error": error[:2000],
        }
        for retry in retries
    ]
    if rows:
        await session.execute(update(OutboxRow), rows)


async def defer(session: AsyncSession, until: Mapping[int, datetime]) -> None:
    """Release rows the plan held back (group interval, rate limit) until the given times."""
    rows = [{"id": i, "next_attempt_at": at, "claimed_until": None} for i, at in until.items()]
    if rows:
        await session.execute(update(OutboxRow), rows)


async def pending_count(session: AsyncSession) -> int:
    """Rows recorded and not yet delivered, failed or suppressed."""
    count = await session.scalar(select(func.count()).where(OutboxRow.state == "pending"))
    return int(count or 0)


async def notified_receivers(
    session: AsyncSession, alert_ids: Sequence[str]
) -> dict[str, set[str]]:
    """alert id → receivers told it fired, changed level, escalated or was still firing (they
    get the resolve). A row a silence or an acknowledgement suppressed told nobody anything."""
    if not alert_ids:
        return {}
    rows = await session.execute(
        select(OutboxRow.alert_id, OutboxRow.receiver)
        .where(
            OutboxRow.alert_id.in_(alert_ids),
            OutboxRow.kind != "resolved",
            OutboxRow.state != "suppressed",
        )
        .distinct()
    )
    result: dict[str, set[str]] = defaultdict(set)
    for alert_id, receiver in rows:
        result[alert_id].add(receiver)
    return result


async def last_sent_by_group(
    session: AsyncSession, *, since: datetime
) -> dict[tuple[str, str], datetime]:
    """(receiver, group key) → the last delivery of that group since ``since``."""
    rows = await session.execute(
        select(OutboxRow.receiver, OutboxRow.group_key, func.max(OutboxRow.sent_at))
        .where(OutboxRow.state == "sent", OutboxRow.sent_at >= since)
        .group_by(OutboxRow.receiver, OutboxRow.group_key)
    )
    return {(receiver, key): sent for receiver, key, sent in rows if sent is not None}


async def recent_sends(session: AsyncSession, *, since: datetime) -> dict[str, list[datetime]]:
    """receiver → times of the messages it got since ``since`` (for the per-minute limits)."""
    rows = await session.execute(
        select(NotificationLogRow.receiver, NotificationLogRow.sent_at).where(
            NotificationLogRow.sent_at >= since
        )
    )
    result: dict[str, list[datetime]] = defaultdict(list)
    for receiver, sent_at in rows:
        result[receiver].append(sent_at)
    return result


@dataclass(frozen=True, slots=True)
class Heard:
    """What one receiver was told of one firing alert, from its outbox rows (resolves aside)."""

    latest_id: int
    """The newest row; a follow-up of it is keyed ``after:<latest_id>``."""
    latest_state: str
    muted_by: str | None
    """The silence id, when a silence suppressed the newest row."""
    last_sent_at: datetime | None
    last_sent_level: str | None
    """The alert's level in the newest row that was delivered (None: never delivered)."""


async def heard_of_firing(
    session: AsyncSession, *, told_before: datetime | None
) -> dict[tuple[str, str], Heard]:
    """(alert id, receiver) → what that receiver was told, for the firing alerts where a
    follow-up may be due: nothing pending for it, and either its newest row was muted by a
    silence, or it was last told before ``told_before`` (None: reminders are off)."""
    firing = select(AlertRow.id).where(AlertRow.state == "firing")
    pairs = (
        select(
            OutboxRow.alert_id,
            OutboxRow.receiver,
            func.max(OutboxRow.id).label("latest_id"),
            func.max(case((OutboxRow.state == "sent", OutboxRow.id))).label("sent_id"),
        )
        .where(OutboxRow.alert_id.in_(firing), OutboxRow.kind != "resolved")
        .group_by(OutboxRow.alert_id, OutboxRow.receiver)
        .subquery()
    )
    latest, sent = aliased(OutboxRow), aliased(OutboxRow)
    muted = and_(latest.state == "suppressed", latest.last_error.startswith(MUTED_PREFIX))
    rows = await session.execute(
        select(
            pairs.c.alert_id,
            pairs.c.receiver,
            latest.id,
            latest.state,
            latest.last_error,
            sent.sent_at,
            sent.payload[("alert", "level")].as_string(),
        )
        .join(latest, latest.id == pairs.c.latest_id)
        .outerjoin(sent, sent.id == pairs.c.sent_id)
        .where(
            latest.state != "pending",
            muted if told_before is None else or_(muted, sent.sent_at <= told_before),
        )
    )
    result: dict[tuple[str, str], Heard] = {}
    for alert_id, receiver, latest_id, state, error, sent_at, level in rows:
        silenced = state == "suppressed" and (error or "").startswith(MUTED_PREFIX)
        result[(alert_id, receiver)] = Heard(
            latest_id=latest_id,
            latest_state=state,
            muted_by=(error or "")[len(MUTED_PREFIX) :] if silenced else None,
            last_sent_at=sent_at,
            last_sent_level=level,
        )
    return result
