"""Lifecycle decisions: pending → firing → resolved, as pure functions of (alerts, signals, now).

For each fingerprint, at each tick (``now`` is event time, the watermark):

- a signal with no active alert starts one: ``pending`` (or straight to ``firing`` when the rule's
  pending period is 0);
- ``pending`` fires once the condition has held for the pending period; a tick without the signal
  before that cancels it (as Prometheus drops a pending alert);
- ``firing`` with a worse level changes level at once (黄 → 橙 notifies); a better level must hold
  for the clear period before the alert steps down, so a value on a threshold does not flap;
- ``firing`` without the signal resolves once it has been clear for the clear period; a signal in
  between resets the clear clock. ``resolved_at`` is when it first went clear.

Subjects the caller is not authoritative for (hubs another replica owns) are left untouched:
neither their signals nor their absence change anything here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta

from alerts.config import RulePeriods
from alerts.model import Alert, AlertChange, ChangeKind, Signal
from core.levels import LEVEL_RANK

Authority = Callable[[str, str], bool]
"""``(scope, subject) -> bool``: may this call start, change or resolve alerts of the subject?"""


@dataclass(slots=True)
class Decision:
    """What a tick changes: rows to insert, update and delete, and the transitions, in order."""

    inserts: list[Alert] = field(default_factory=list)
    updates: list[Alert] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    changes: list[AlertChange] = field(default_factory=list)


def decide(
    active: Mapping[str, Alert],
    signals: Mapping[str, Signal],
    *,
    now: datetime,
    periods: Callable[[str], RulePeriods],
    authoritative: Authority,
    new_id: Callable[[], str],
) -> Decision:
    """Diff the active alerts (by fingerprint) against this tick's signals (by fingerprint)."""
    decision = Decision()
    for key in active.keys() | signals.keys():
        alert, signal = active.get(key), signals.get(key)
        scope, subject = (alert.scope, alert.subject) if alert else _scope_of(signal)
        if not authoritative(scope, subject):
            continue
        if alert is None and signal is not None:
            started, change = start(signal, now=now, periods=periods(signal.rule), new_id=new_id)
            decision.inserts.append(started)
            decision.changes.append(change)
            continue
        if alert is None:
            continue
        rule_periods = periods(alert.rule)
        if signal is None:
            after, changes = clear(alert, now=now, periods=rule_periods)
        else:
            after, changes = hold(alert, signal, now=now, periods=rule_periods)
        decision.changes.extend(changes)
        if after is None:
            decision.deletes.append(alert.id)
        elif after != alert:
            decision.updates.append(after)
    decision.changes.sort(key=lambda change: (change.alert.fingerprint, change.kind))
    return decision


def _scope_of(signal: Signal | None) -> tuple[str, str]:
    assert signal is not None  # one of alert and signal is always present
    return signal.scope, signal.subject


def start(
    signal: Signal, *, now: datetime, periods: RulePeriods, new_id: Callable[[], str]
) -> tuple[Alert, AlertChange]:
    """A new alert for a signal with no active alert: pending, or firing at once."""
    alert = Alert(id=new_id(), state="pending", started_at=now, **asdict(signal))
    if periods.pending_s <= 0:
        alert = replace(alert, state="firing", fired_at=now)
        return alert, AlertChange(kind="firing", alert=alert, at=now)
    return alert, AlertChange(kind="pending", alert=alert, at=now)


def hold(
    alert: Alert, signal: Signal, *, now: datetime, periods: RulePeriods
) -> tuple[Alert, list[AlertChange]]:
    """The condition holds at this tick: refresh the numbers, maybe fire or change level."""
    state, level, fired_at = alert.state, alert.level, alert.fired_at
    downgrade_since: datetime | None = None
    kind: ChangeKind | None = None
    if state == "pending":
        level = signal.level
        if now - alert.started_at >= timedelta(seconds=periods.pending_s):
            state, fired_at, kind = "firing", now, "firing"
    elif LEVEL_RANK[signal.level] > LEVEL_RANK[alert.level]:
        level, kind = signal.level, "level_changed"
    elif LEVEL_RANK[signal.level] < LEVEL_RANK[alert.level]:
        downgrade_since = alert.downgrade_since or now
        if now - downgrade_since >= timedelta(seconds=periods.clear_s):
            level, downgrade_since, kind = signal.level, None, "level_changed"
    after = replace(
        alert,
        state=state,
        level=level,
        fired_at=fired_at,
        summary=signal.summary,
        summary_en=signal.summary_en,
        values_json=signal.values_json,
        hub_id=signal.hub_id,
        carrier=signal.carrier,
        province=signal.province,
        clear_since=None,
        downgrade_since=downgrade_since,
    )
    if kind is None:
        return after, []
    previous = alert.level if kind == "level_changed" else None
    return after, [AlertChange(kind=kind, alert=after, at=now, previous_level=previous)]


def clear(
    alert: Alert, *, now: datetime, periods: RulePeriods
) -> tuple[Alert | None, list[AlertChange]]:
    """The condition is absent at this tick: cancel a pending alert, maybe resolve a firing one."""
    if alert.state == "pending":
        return None, [AlertChange(kind="cancelled", alert=alert, at=now)]
    clear_since = alert.clear_since or now
    if now - clear_since < timedelta(seconds=periods.clear_s):
        return replace(alert, clear_since=clear_since), []
    after = replace(
        alert, state="resolved", resolved_at=clear_since, clear_since=None, downgrade_since=None
    )
    return after, [AlertChange(kind="resolved", alert=after, at=now)]
