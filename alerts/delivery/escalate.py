"""Who is told again when nobody handles a firing alert. Pure decisions with ``wall_now`` passed in.

- **Escalation**: steps come from the routes that match the alert (``escalations = [{after_s,
  receivers}]``) and count from ``firing_wall_at``, the wall-clock moment the alert went firing.
  Each step is taken once (``escalation_step`` remembers the last); an acknowledgement or a
  resolve stops them all.
- **After a silence** (as Alertmanager does when a silence lapses): a receiver whose newest
  notification of a still-firing alert was muted, and who does not know the alert's current
  level (never told, or told another level before the silence), is told once when no silence
  mutes the alert any more.
- **Reminders** ("still firing"): every ``repeat_interval_s`` since a receiver was last told of a
  firing alert nobody acknowledged, it is reminded. Acknowledged or resolved alerts are not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.config import AlertingConfig, Escalation
from alerts.delivery import route
from alerts.delivery.silence import Silence, silenced_by
from alerts.model import Alert, NotificationKind
from alerts.store.outbox import Heard


@dataclass(frozen=True, slots=True)
class EscalationDue:
    """Escalate ``alert`` to ``receivers``, reaching step ``step`` (1-based)."""

    alert: Alert
    step: int
    receivers: tuple[str, ...]


def due(alert: Alert, steps: Sequence[Escalation], *, wall_now: datetime) -> EscalationDue | None:
    """The escalation to take now, or None (not firing, acknowledged, or not yet time).

    When several steps fell due since the last look (the service was down), they are taken
    together: their receivers are merged and the step jumps to the last one reached.
    """
    if alert.state != "firing" or alert.acked_at is not None or alert.firing_wall_at is None:
        return None
    elapsed = wall_now - alert.firing_wall_at
    reached = [
        (number, step)
        for number, step in enumerate(steps, start=1)
        if number > alert.escalation_step and elapsed >= timedelta(seconds=step.after_s)
    ]
    if not reached:
        return None
    receivers = tuple(dict.fromkeys(r for _, step in reached for r in step.receivers))
    return EscalationDue(alert=alert, step=reached[-1][0], receivers=receivers)


@dataclass(frozen=True, slots=True)
class Listener:
    """A receiver that hears a firing alert now, and how a follow-up reaches it."""

    receiver: str
    first_kind: NotificationKind
    """What it is told when it was never told anything: ``firing``, or ``escalation``."""
    group_key: str
    group_interval_s: float
    repeat_interval_s: float | None
    """None: never reminded."""


def listeners(alert: Alert, config: AlertingConfig) -> list[Listener]:
    """Who hears ``alert`` now: its routes' receivers (first route wins), then the receivers of
    the escalation steps already taken."""
    labels = alert.labels()
    matched = route.matching_routes(labels, config.routes)
    found: dict[str, Listener] = {}
    for index, taking in matched:
        for name in taking.receivers:
            found.setdefault(
                name,
                Listener(
                    receiver=name,
                    first_kind="firing",
                    group_key=route.group_key(index, taking, labels),
                    group_interval_s=taking.group_interval_s,
                    repeat_interval_s=config.repeat_interval_for(name, taking),
                ),
            )
    taken = route.escalations(labels, config.routes)[: alert.escalation_step]
    for _, taking in matched:
        for name in (r for step in taking.escalations if step in taken for r in step.receivers):
            found.setdefault(
                name,
                Listener(
                    receiver=name,
                    first_kind="escalation",
                    group_key=f"escalation|{alert.id}",
                    group_interval_s=0.0,
                    repeat_interval_s=config.repeat_interval_for(name, taking),
                ),
            )
    return list(found.values())


@dataclass(frozen=True, slots=True)
class FollowUp:
    """Tell ``listener`` about ``alert`` again: ``kind`` is ``reminder``, or what the silence
    kept from it (``firing``/``escalation``, or ``level_changed`` from ``previous_level``)."""

    alert: Alert
    listener: Listener
    kind: NotificationKind
    previous_level: str | None
    after_id: int
    """The outbox row this follows (its dedup key: one follow-up per row, on every replica)."""
    firing_for_s: float | None = None


def follow_up(
    alert: Alert,
    listener: Listener,
    heard: Heard | None,
    *,
    silenced: bool,
    wall_now: datetime,
) -> FollowUp | None:
    """What ``listener`` must be told of ``alert`` now beyond what the lifecycle sends, or None.

    ``heard`` is what it was told (None: nothing yet, so the lifecycle's own notification is
    still to come); ``silenced``: a silence mutes the alert at ``wall_now``. Nothing is added
    while a notification for it is still pending, or while the alert is muted.
    """
    if alert.state != "firing" or heard is None or heard.latest_state == "pending" or silenced:
        return None
    told = heard.last_sent_level
    if heard.muted_by is not None and told != alert.level:
        kind: NotificationKind = listener.first_kind if told is None else "level_changed"
        return FollowUp(alert, listener, kind, previous_level=told, after_id=heard.latest_id)
    interval = listener.repeat_interval_s
    if interval is None or alert.acked_at is not None or heard.last_sent_at is None:
        return None
    if wall_now - heard.last_sent_at < timedelta(seconds=interval):
        return None
    fired = alert.firing_wall_at
    return FollowUp(
        alert,
        listener,
        "reminder",
        previous_level=None,
        after_id=heard.latest_id,
        firing_for_s=None if fired is None else (wall_now - fired).total_seconds(),
    )


def follow_ups(
    alerts: Sequence[Alert],
    heard: Mapping[tuple[str, str], Heard],
    silences: Sequence[Silence],
    config: AlertingConfig,
    *,
    wall_now: datetime,
) -> list[FollowUp]:
    """Every follow-up due at ``wall_now``: ``follow_up`` for each listener of each alert, with
    what it heard (by (alert id, receiver)) and whether a silence mutes the alert now."""
    result: list[FollowUp] = []
    for alert in alerts:
        silenced = silenced_by(alert.labels(), silences, now=wall_now) is not None
        for listener in listeners(alert, config):
            told = heard.get((alert.id, listener.receiver))
            due = follow_up(alert, listener, told, silenced=silenced, wall_now=wall_now)
            if due is not None:
                result.append(due)
    return result
