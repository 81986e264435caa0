"""Dispatch: turn due outbox rows into messages. A pure plan of (rows, delivery state, now).

For each delivery pass, in order:

1. **suppress** rows whose alert a silence mutes, escalations and reminders of alerts already
   acknowledged, and reminders of alerts no longer firing;
2. **group interval**: a (receiver, group) that got a message less than ``group_interval_s`` ago
   waits (the row is deferred to when the interval ends);
3. **group**: rows of the same (receiver, group) become one message;
4. **inhibit**: while ``network_paralysis`` fires, every hub-scope row for a receiver goes into one
   digest (``inhibit.py``);
5. **rate limit**: a receiver with a per-minute limit (DingTalk and WeCom robots: 20) never gets
   more messages than its remaining budget for the last minute; the surplus is merged into one
   digest instead of being dropped. With no budget left, rows wait until a minute has passed
   since the oldest message of the window.

Group wait needs no step here: a row is enqueued with its first attempt ``group_wait_s`` ahead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerts.delivery.inhibit import split_hub_items
from alerts.delivery.silence import MUTED_PREFIX, Silence, silenced_by
from alerts.notify.base import DigestReason, Notification, NotificationItem

RATE_WINDOW = timedelta(minutes=1)
DIGEST_GROUP = "digest"


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """What the plan needs to know besides the rows, read once per pass."""

    silences: Sequence[Silence] = ()
    acked_alert_ids: Set[str] = frozenset()
    not_firing_alert_ids: Set[str] = frozenset()
    """Of the escalated and reminded alerts, those resolved since the row was recorded."""
    network_firing: bool = False
    last_sent: Mapping[tuple[str, str], datetime] = field(default_factory=dict)
    """(receiver, group key) → when it last got a message."""
    recent_sends: Mapping[str, Sequence[datetime]] = field(default_factory=dict)
    """receiver → send times within the last minute."""
    rate_limits_per_min: Mapping[str, int | None] = field(default_factory=dict)


@dataclass(slots=True)
class Plan:
    """Messages to send now, rows to suppress (with why), rows to try later (with when)."""

    messages: list[Notification] = field(default_factory=list)
    suppressed: dict[int, str] = field(default_factory=dict)
    deferred: dict[int, datetime] = field(default_factory=dict)


def plan(items: Sequence[NotificationItem], state: DeliveryState, *, now: datetime) -> Plan:
    """The plan for one pass over ``items`` (rows due at ``now``)."""
    result = Plan()
    ready: list[NotificationItem] = []
    for item in sorted(items, key=lambda i: (i.created_at, i.outbox_id)):
        reason = suppression(item, state, now=now)
        if reason is not None:
            result.suppressed[item.outbox_id] = reason
            continue
        last = state.last_sent.get((item.receiver, item.group_key))
        if last is not None and now < last + timedelta(seconds=item.group_interval_s):
            result.deferred[item.outbox_id] = last + timedelta(seconds=item.group_interval_s)
            continue
        ready.append(item)
    by_receiver: dict[str, list[NotificationItem]] = defaultdict(list)
    for item in ready:
        by_receiver[item.receiver].append(item)
    for receiver, receiver_items in by_receiver.items():
        messages = group_messages(receiver, receiver_items, network_firing=state.network_firing)
        limit = state.rate_limits_per_min.get(receiver)
        recent = state.recent_sends.get(receiver, ())
        sendable, wait_until = rate_limit(messages, limit=limit, recent=recent, now=now)
        result.messages.extend(sendable)
        if wait_until is not None:
            result.deferred.update({item.outbox_id: wait_until for item in receiver_items})
    return result


def suppression(item: NotificationItem, state: DeliveryState, *, now: datetime) -> str | None:
    """Why ``item`` must not be sent (``silenced:<id>``, ``acknowledged``, ``resolved``), or
    None."""
    if item.kind in ("escalation", "reminder") and item.alert.id in state.acked_alert_ids:
        return "acknowledged"
    if item.kind == "reminder" and item.alert.id in state.not_firing_alert_ids:
        return "resolved"
    silence = silenced_by(item.alert.labels(), state.silences, now=now)
    return None if silence is None else f"{MUTED_PREFIX}{silence.id}"


def group_messages(
    receiver: str, items: Sequence[NotificationItem], *, network_firing: bool
) -> list[Notification]:
    """One message per group, plus one network digest of hub items while the network fires."""
    kept, digested = split_hub_items(items, network_firing=network_firing)
    groups: dict[str, list[NotificationItem]] = defaultdict(list)
    for item in kept:
        groups[item.group_key].append(item)
    messages = [
        Notification(
            receiver=receiver,
            group_key=key,
            items=tuple(group),
            digest="group" if len({item.alert.id for item in group}) > 1 else None,
        )
        for key, group in groups.items()
    ]
    if digested:
        messages.append(_digest(receiver, digested, "network"))
    return messages


def rate_limit(
    messages: Sequence[Notification],
    *,
    limit: int | None,
    recent: Sequence[datetime],
    now: datetime,
) -> tuple[list[Notification], datetime | None]:
    """``(to send, None)`` within budget (surplus merged into one digest), or ``([], retry at)``."""
    if limit is None or len(messages) <= limit - len(recent):
        return list(messages), None
    budget = limit - len(recent)
    if budget <= 0:
        return [], min(recent) + RATE_WINDOW
    kept = list(messages[: budget - 1])
    surplus = [item for message in messages[budget - 1 :] for item in message.items]
    return [*kept, _digest(messages[0].receiver, surplus, "rate_limit")], None


def _digest(receiver: str, items: Sequence[NotificationItem], reason: DigestReason) -> Notification:
    return Notification(
        receiver=receiver, group_key=DIGEST_GROUP, items=tuple(items), digest=reason
    )
