"""One delivery pass over the outbox, on the wall clock:

1. escalate firing alerts nobody acknowledged in time (new outbox rows, in one transaction);
2. re-send firing alerts to each Alertmanager whose resend interval has passed;
3. lease the due rows, read silences, acknowledgements, group and rate-limit history;
4. plan (``dispatch.plan``: suppress, hold back, group, digest);
5. send, each receiver's messages in order, receivers side by side; record each outcome in its
   own short transaction right after the send, so no transaction is open during network I/O.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alerts import escalate, outbox, route
from alerts.config import AlertingConfig
from alerts.dispatch import RATE_WINDOW, DeliveryState, plan
from alerts.inhibit import NETWORK_RULE
from alerts.metrics import AlertMetrics
from alerts.model import Alert, AlertChange
from alerts.notify.alertmanager import AlertmanagerNotifier
from alerts.notify.base import Notification, NotificationItem, Notifier, NotifyError
from alerts.silence import silenced_by
from alerts.store import repository
from alerts.store.db import Database
from alerts.store.models import AlertRow
from alerts.store.silences import silences_in_force

log = logging.getLogger(__name__)


class Deliverer:
    """Runs delivery passes; holds the notifiers and when each Alertmanager was last synced."""

    def __init__(
        self,
        *,
        db: Database,
        config: AlertingConfig,
        notifiers: Mapping[str, Notifier],
        metrics: AlertMetrics,
        on_changes: Callable[[list[AlertChange]], None],
    ) -> None:
        self._db, self._config, self._notifiers = db, config, notifiers
        self._metrics, self._on_changes = metrics, on_changes
        self._last_sync: dict[str, datetime] = {}

    async def run_pass(self, *, wall_now: datetime) -> int:
        """One pass; returns how many notifications (outbox rows) were delivered."""
        await self.escalate(wall_now=wall_now)
        await self.sync_alertmanagers(wall_now=wall_now)
        async with self._db.sessionmaker.begin() as session:
            items = await outbox.claim_due(session, wall_now=wall_now, settings=self._config.outbox)
            state = await self._delivery_state(session, items, wall_now=wall_now) if items else None
        delivered = 0
        if state is not None:
            delivered = await self._deliver(items, state, wall_now=wall_now)
        async with self._db.sessionmaker() as session:
            self._metrics.outbox_pending.set(await outbox.pending_count(session))
        return delivered

    async def escalate(self, *, wall_now: datetime) -> None:
        """Enqueue due escalations; each step is taken once, even with several replicas."""
        first_steps = [e.after_s for r in self._config.routes for e in r.escalations]
        if not first_steps:
            return
        fired_before = wall_now - timedelta(seconds=min(first_steps))
        notifications: list[outbox.NewNotification] = []
        changes: list[AlertChange] = []
        async with self._db.sessionmaker.begin() as session:
            candidates = await repository.firing_unacknowledged(session, fired_before=fired_before)
            for alert in candidates:
                steps = route.escalations(alert.labels(), self._config.routes)
                due = escalate.due(alert, steps, wall_now=wall_now)
                if due is None or not await repository.advance_escalation(
                    session, alert.id, from_step=alert.escalation_step, to_step=due.step
                ):
                    continue
                notifications.extend(_escalation(alert, receiver) for receiver in due.receivers)
                actor = ",".join(due.receivers)
                changes.append(AlertChange(kind="escalated", alert=alert, at=wall_now, actor=actor))
            await outbox.enqueue(session, notifications, wall_now=wall_now)
            stored = await repository.record_changes(session, changes, wall_now=wall_now)
        if stored:
            self._on_changes(stored)

    async def sync_alertmanagers(self, *, wall_now: datetime) -> None:
        """Re-push firing alerts to each Alertmanager due for it (a failure waits for next pass)."""
        due = [
            n
            for n in self._notifiers.values()
            if isinstance(n, AlertmanagerNotifier)
            and wall_now - self._last_sync.get(n.name, datetime.min.replace(tzinfo=wall_now.tzinfo))
            >= timedelta(seconds=n.resend_interval_s)
        ]
        if not due:
            return
        async with self._db.sessionmaker() as session:
            firing = await repository.firing(session)
            silences = await silences_in_force(session, now=wall_now)
        for notifier in due:
            mine = [
                a
                for a in firing
                if any(
                    d.receiver == notifier.name
                    for d in route.deliveries(a.labels(), self._config.routes)
                )
                and silenced_by(a.labels(), silences, now=wall_now) is None
            ]
            try:
                await notifier.sync(mine)
            except NotifyError as error:
                log.warning("alertmanager %s: re-send failed: %s", notifier.name, error)
                continue
            self._last_sync[notifier.name] = wall_now

    async def _delivery_state(
        self, session: AsyncSession, items: Sequence[NotificationItem], *, wall_now: datetime
    ) -> DeliveryState:
        escalated = {i.alert.id for i in items if i.kind == "escalation"}
        acked = set()
        if escalated:
            acked = set(
                await session.scalars(
                    select(AlertRow.id).where(
                        AlertRow.id.in_(escalated), AlertRow.acked_at.is_not(None)
                    )
                )
            )
        network = await session.scalar(
            select(AlertRow.id)
            .where(AlertRow.rule == NETWORK_RULE, AlertRow.state == "firing")
            .limit(1)
        )
        longest_interval = max(i.group_interval_s for i in items)
        return DeliveryState(
            silences=await silences_in_force(session, now=wall_now),
            acked_alert_ids=acked,
            network_firing=network is not None,
            last_sent=await outbox.last_sent_by_group(
                session, since=wall_now - timedelta(seconds=longest_interval)
            ),
            recent_sends=await outbox.recent_sends(session, since=wall_now - RATE_WINDOW),
            rate_limits_per_min={r.name: r.rate_limit_per_min for r in self._config.receivers},
        )

    async def _deliver(
        self, items: Sequence[NotificationItem], state: DeliveryState, *, wall_now: datetime
    ) -> int:
        unknown = [i.outbox_id for i in items if i.receiver not in self._notifiers]
        known = [i for i in items if i.receiver in self._notifiers]
        result = plan(known, state, now=wall_now)
        async with self._db.sessionmaker.begin() as session:
            await outbox.mark_suppressed(session, result.suppressed)
            await outbox.defer(session, result.deferred)
            if unknown:
                await outbox.mark_failed(session, unknown, error="receiver is no longer configured")
        for item in known:
            if item.outbox_id in result.suppressed:
                self._metrics.count_notifications(item.receiver, "suppressed")
        by_receiver: dict[str, list[Notification]] = defaultdict(list)
        for message in result.messages:
            by_receiver[message.receiver].append(message)
        counts = await asyncio.gather(
            *(self._send_in_order(messages, wall_now=wall_now) for messages in by_receiver.values())
        )
        return sum(counts)

    async def _send_in_order(self, messages: Sequence[Notification], *, wall_now: datetime) -> int:
        delivered = 0
        for message in messages:
            delivered += await self._send(message, wall_now=wall_now)
        return delivered

    async def _send(self, message: Notification, *, wall_now: datetime) -> int:
        notifier = self._notifiers[message.receiver]
        ids = [item.outbox_id for item in message.items]
        try:
            await notifier.notify(message)
        except Exception as error:  # a notifier bug must not stop the loop: retry like a 5xx
            retryable = error.retryable if isinstance(error, NotifyError) else True
            if not isinstance(error, NotifyError):
                log.exception("notifier %s raised unexpectedly", message.receiver)
            await self._record_failure(
                message, error=str(error), retryable=retryable, wall_now=wall_now
            )
            return 0
        async with self._db.sessionmaker.begin() as session:
            message_id = await outbox.log_message(session, message, wall_now=wall_now)
            await outbox.mark_sent(session, ids, wall_now=wall_now, message_id=message_id)
        self._metrics.count_notifications(message.receiver, "sent", len(ids))
        return len(ids)

    async def _record_failure(
        self, message: Notification, *, error: str, retryable: bool, wall_now: datetime
    ) -> None:
        log.warning("notify %s failed (retryable=%s): %s", message.receiver, retryable, error)
        async with self._db.sessionmaker.begin() as session:
            if retryable:
                failed = await outbox.retry_later(
                    session,
                    message.items,
                    wall_now=wall_now,
                    error=error,
                    settings=self._config.outbox,
                )
            else:
                failed = [item.outbox_id for item in message.items]
                await outbox.mark_failed(session, failed, error=error)
        self._metrics.count_notifications(message.receiver, "failed", len(failed))
        self._metrics.count_notifications(
            message.receiver, "retry", len(message.items) - len(failed)
        )


def _escalation(alert: Alert, receiver: str) -> outbox.NewNotification:
    return outbox.NewNotification(
        alert=alert,
        kind="escalation",
        receiver=receiver,
        group_key=f"escalation|{alert.id}",
        group_wait_s=0.0,
        group_interval_s=0.0,
    )
