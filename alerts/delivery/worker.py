"""One delivery pass over the outbox, on the wall clock:

1. escalate firing alerts nobody acknowledged in time (new outbox rows, in one transaction);
2. follow up (every ``FOLLOW_UP_EVERY_S``): tell receivers a silence kept a still-firing alert
   from, once the silence is over, and remind them of firing alerts nobody acknowledged every
   repeat interval (``escalate.follow_up``); replicas deciding the same follow-up record it once;
3. re-send firing alerts to each Alertmanager whose resend interval has passed;
4. lease the due rows under a fresh claim token, read silences, acknowledgements, group and
   rate-limit history;
5. plan (``dispatch.plan``: suppress, hold back, group, digest);
6. send, each receiver's messages in order, receivers side by side. Right before each send the
   message's rows get a fresh lease, if this pass still holds them (else another deliverer took
   them over while this pass was slow, and they are skipped); a send ends within
   ``send_deadline_s`` (half the lease). Each outcome is recorded in its own short transaction
   right after the send, so no transaction is open during network I/O.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from alerts.config import AlertingConfig
from alerts.delivery import escalate, retry, route
from alerts.delivery.dispatch import RATE_WINDOW, DeliveryState, plan
from alerts.delivery.inhibit import NETWORK_RULE
from alerts.delivery.silence import silenced_by
from alerts.metrics import AlertMetrics
from alerts.model import Alert, AlertChange
from alerts.notify.alertmanager import AlertmanagerNotifier
from alerts.notify.base import Notification, NotificationItem, Notifier, NotifyError
from alerts.store import alert_states, outbox, repository
from alerts.store.duty import with_duty
from alerts.store.mitigations import with_measures
from alerts.store.silences import silences_in_force
from storage.db import Database

log = logging.getLogger(__name__)
FOLLOW_UP_EVERY_S = 10.0
"""How often a deliverer looks for follow-ups (a scan of the firing alerts and their rows)."""


@dataclass(slots=True)
class _Claim:
    """One pass's hold on the rows it leased: its token, when each lease ends, and its clock
    (the pass's ``wall_now`` moved on by the time the pass has taken)."""

    wall_start: datetime
    lease_s: float
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: float = field(default_factory=time.monotonic)
    lease_ends: dict[int, datetime] = field(default_factory=dict)
    """Rows renewed in this pass → when their lease ends (others: ``wall_start`` + lease)."""

    def now(self) -> datetime:
        """The pass's wall clock now."""
        return self.wall_start + timedelta(seconds=time.monotonic() - self.started)

    def needs_renewal(self, ids: Sequence[int]) -> bool:
        """Less than three quarters of the lease left on one of the rows: renew before the send
        (a send takes at most half the lease, which leaves a quarter to record its outcome)."""
        claimed_end = self.wall_start + timedelta(seconds=self.lease_s)
        end = min(self.lease_ends.get(i, claimed_end) for i in ids)
        return end - self.now() < timedelta(seconds=0.75 * self.lease_s)

    def renewed(self, ids: Sequence[int], *, at: datetime) -> None:
        """The rows' lease was renewed at ``at``."""
        self.lease_ends.update(dict.fromkeys(ids, at + timedelta(seconds=self.lease_s)))


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
        self._last_follow_up: datetime | None = None

    async def run_pass(self, *, wall_now: datetime) -> int:
        """One pass; returns how many notifications (outbox rows) were delivered."""
        await self.escalate(wall_now=wall_now)
        await self.follow_up(wall_now=wall_now)
        await self.sync_alertmanagers(wall_now=wall_now)
        claim = _Claim(wall_start=wall_now, lease_s=self._config.outbox.lease_s)
        async with self._db.sessionmaker.begin() as session:
            items = await outbox.claim_due(
                session, wall_now=wall_now, settings=self._config.outbox, claimant=claim.token
            )
            items = await with_measures(session, items)  # 处置措施 and 预警 shown in the message
            items = await with_duty(session, items, wall_now=wall_now)  # @ who is on duty
            state = await self._delivery_state(session, items, wall_now=wall_now) if items else None
        delivered = 0
        if state is not None:
            delivered = await self._deliver(items, state, wall_now=wall_now, claim=claim)
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

    async def follow_up(self, *, wall_now: datetime) -> int:
        """Record the follow-ups due (after a silence, reminders); how many this replica recorded.

        Runs at most every ``FOLLOW_UP_EVERY_S``. Each follow-up is keyed by the row it follows,
        so two replicas scanning at once record it once.
        """
        last = self._last_follow_up
        if last is not None and abs(wall_now - last) < timedelta(seconds=FOLLOW_UP_EVERY_S):
            return 0
        self._last_follow_up = wall_now
        shortest = self._config.shortest_repeat_interval_s()
        told_before = None if shortest is None else wall_now - timedelta(seconds=shortest)
        async with self._db.sessionmaker() as session:
            heard = await outbox.heard_of_firing(session, told_before=told_before)
            alerts = await alert_states.firing_alerts(session, {alert_id for alert_id, _ in heard})
            silences = await silences_in_force(session, now=wall_now) if alerts else []
        due = escalate.follow_ups(alerts, heard, silences, self._config, wall_now=wall_now)
        if not due:
            return 0
        notes = [_follow_up(one) for one in due]
        async with self._db.sessionmaker.begin() as session:
            recorded = await outbox.enqueue(session, notes, wall_now=wall_now)
        log.info("follow-ups: %d recorded (%d due)", recorded, len(notes))
        return recorded

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
        followed = {i.alert.id for i in items if i.kind in ("escalation", "reminder")}
        acked, firing = await alert_states.acked_and_firing(session, followed)
        longest_interval = max(i.group_interval_s for i in items)
        return DeliveryState(
            silences=await silences_in_force(session, now=wall_now),
            acked_alert_ids=acked,
            not_firing_alert_ids=followed - firing,
            network_firing=await alert_states.rule_firing(session, NETWORK_RULE),
            last_sent=await outbox.last_sent_by_group(
                session, since=wall_now - timedelta(seconds=longest_interval)
            ),
            recent_sends=await outbox.recent_sends(session, since=wall_now - RATE_WINDOW),
            rate_limits_per_min={r.name: r.rate_limit_per_min for r in self._config.receivers},
        )

    async def _deliver(
        self,
        items: Sequence[NotificationItem],
        state: DeliveryState,
        *,
        wall_now: datetime,
        claim: _Claim,
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
            *(
                self._send_in_order(messages, wall_now=wall_now, claim=claim)
                for messages in by_receiver.values()
            )
        )
        return sum(counts)

    async def _send_in_order(
        self, messages: Sequence[Notification], *, wall_now: datetime, claim: _Claim
    ) -> int:
        delivered = 0
        for message in messages:
            delivered += await self._send(message, wall_now=wall_now, claim=claim)
        return delivered

    async def _send(self, message: Notification, *, wall_now: datetime, claim: _Claim) -> int:
        ids = [item.outbox_id for item in message.items]
        if not await self._renew(message, ids, claim):
            return 0
        error = await self._notify(message)
        if error is not None:
            await self._record_failure(
                message, error=str(error), retryable=error.retryable, wall_now=wall_now
            )
            return 0
        async with self._db.sessionmaker.begin() as session:
            message_id = await outbox.log_message(session, message, wall_now=wall_now)
            await outbox.mark_sent(session, ids, wall_now=wall_now, message_id=message_id)
        self._metrics.count_notifications(message.receiver, "sent", len(ids))
        return len(ids)

    async def _renew(self, message: Notification, ids: Sequence[int], claim: _Claim) -> bool:
        """Make sure the lease on the message's rows outlasts the send; False when this pass no
        longer holds them all (another deliverer took over while this pass was slow)."""
        if not claim.needs_renewal(ids):
            return True
        now = claim.now()
        async with self._db.sessionmaker.begin() as session:
            held = await outbox.renew(
                session, ids, claimant=claim.token, wall_now=now, settings=self._config.outbox
            )
        if held:
            claim.renewed(ids, at=now)
        else:
            log.info(
                "notify %s: %d rows skipped: this pass's lease on them ran out and another "
                "deliverer has them",
                message.receiver,
                len(ids),
            )
        return held

    async def _notify(self, message: Notification) -> NotifyError | None:
        """Send within the deadline; the error (retryable or not) when it was not delivered."""
        deadline_s = self._config.outbox.send_deadline_s
        try:
            async with asyncio.timeout(deadline_s):
                await self._notifiers[message.receiver].notify(message)
        except NotifyError as error:
            return error
        except TimeoutError:
            return NotifyError(f"no answer within {deadline_s:g} s", retryable=True)
        except Exception as error:  # a notifier bug must not stop the loop: retry like a 5xx
            log.exception("notifier %s raised unexpectedly", message.receiver)
            return NotifyError(str(error), retryable=True)
        return None

    async def _record_failure(
        self, message: Notification, *, error: str, retryable: bool, wall_now: datetime
    ) -> None:
        log.warning("notify %s failed (retryable=%s): %s", message.receiver, retryable, error)
        settings = self._config.outbox
        if retryable:
            retries = retry.after_failure(message.items, wall_now=wall_now, settings=settings)
            final = f"gave up after {timedelta(seconds=settings.give_up_after_s)}: {error}"
        else:
            retries = retry.Retries(again=[], given_up=[i.outbox_id for i in message.items])
            final = error
        async with self._db.sessionmaker.begin() as session:
            await outbox.retry_at(session, retries.again, error=error)
            if retries.given_up:
                await outbox.mark_failed(session, retries.given_up, error=final)
        self._metrics.count_notifications(message.receiver, "failed", len(retries.given_up))
        self._metrics.count_notifications(message.receiver, "retry", len(retries.again))


def _follow_up(due: escalate.FollowUp) -> outbox.NewNotification:
    return outbox.NewNotification(
        alert=due.alert,
        kind=due.kind,
        receiver=due.listener.receiver,
        group_key=due.listener.group_key,
        group_wait_s=0.0,
        group_interval_s=due.listener.group_interval_s,
        previous_level=due.previous_level,
        firing_for_s=due.firing_for_s,
        dedup_key=f"after:{due.after_id}",
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
