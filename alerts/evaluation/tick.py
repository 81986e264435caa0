"""From one evaluation tick's signal frame to lifecycle input, and from transitions to the
notifications they cause. Pure functions (no I/O); the service runs them in its transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import polars as pl

from alerts.config import AlertingConfig
from alerts.delivery.route import deliveries
from alerts.evaluation.fingerprint import fingerprint_column
from alerts.evaluation.lifecycle import Authority, Decision
from alerts.model import Alert, AlertChange, NotificationKind, Signal
from alerts.store.outbox import NewNotification
from core.levels import WARNING_LEVELS


def signals_by_fingerprint(frame: pl.DataFrame) -> dict[str, Signal]:
    """One ``Signal`` per fingerprint (the worst level when a tick repeats one)."""
    warnings = frame.filter(pl.col("level").cast(pl.String).is_in(WARNING_LEVELS))
    if warnings.is_empty():
        return {}
    rows = (
        warnings.with_columns(fingerprint_column(warnings))
        .sort("level", descending=True)
        .unique(subset=["fingerprint"], keep="first")
        .select(
            "fingerprint",
            pl.col("rule", "scope", "level").cast(pl.String),
            "subject",
            "hub_id",
            "carrier",
            "province",
            pl.col("summary", "summary_en").fill_null(""),
            pl.col("values").fill_null("{}").alias("values_json"),
        )
    )
    return {row["fingerprint"]: Signal(**row) for row in rows.iter_rows(named=True)}


NETWORK_MARK = "network"


@dataclass(frozen=True)
class StepSignals:
    """One event-time step: its signals, the hubs this replica holds, and what it may decide.

    ``partitions``: the partitions the engine evaluated at this step for the first time (one
    rebuilt from a checkpoint may be past it already); ``hubs``: hub id → partition.
    """

    at: datetime
    signals: pl.DataFrame
    hubs: Mapping[str, int]
    partitions: frozenset[int]
    evaluates_network: bool


def partition_mark(partition: int) -> str:
    """The evaluation-mark key of a partition's hub alerts."""
    return f"partition:{partition}"


def step_authority(
    step: StepSignals, marks: Mapping[str, datetime]
) -> tuple[set[str], bool, list[str]]:
    """What ``step`` decides given the stored marks: the hubs, whether the network, and the
    marks it moves. A step at or before a mark was decided already (before a restart, or by
    the replica that held the partition): deciding it again would page twice."""

    def due(key: str) -> bool:
        mark = marks.get(key)
        return mark is None or mark < step.at

    partitions = {p for p in step.partitions if due(partition_mark(p))}
    hubs = {hub for hub, partition in step.hubs.items() if partition in partitions}
    network = step.evaluates_network and due(NETWORK_MARK)
    keys = [partition_mark(p) for p in sorted(partitions)]
    return hubs, network, [*keys, NETWORK_MARK] if network else keys


def mark_late(decision: Decision, late_s: float | None) -> Decision:
    """Alerts started or fired while catching up carry how late (wall s) they were decided."""
    if late_s is None:
        return decision
    fired = {c.alert.id for c in decision.changes if c.kind in ("firing", "pending")}
    late = round(late_s, 1)

    def marked(alert: Alert) -> Alert:
        if alert.id in fired and alert.detected_late_s is None:
            return replace(alert, detected_late_s=late)
        return alert

    decision.inserts = [marked(a) for a in decision.inserts]
    decision.updates = [marked(a) for a in decision.updates]
    decision.changes = [replace(c, alert=marked(c.alert)) for c in decision.changes]
    return decision


def authority(owned_hubs: set[str] | None, evaluates_network: bool) -> Authority:
    """Hub alerts belong to the replica owning the hub (all hubs when ``owned_hubs`` is None);
    province, carrier and network alerts to the replica that evaluates the network."""

    def check(scope: str, subject: str) -> bool:
        if scope == "hub":
            return owned_hubs is None or subject in owned_hubs
        return evaluates_network

    return check


def stamp_firing(decision: Decision, *, wall_now: datetime) -> Decision:
    """Record the wall-clock moment alerts went firing (escalation counts from it)."""
    fired = {change.alert.id for change in decision.changes if change.kind == "firing"}
    if not fired:
        return decision
    decision.inserts = [_stamp(a, fired, wall_now) for a in decision.inserts]
    decision.updates = [_stamp(a, fired, wall_now) for a in decision.updates]
    return decision


def _stamp(alert: Alert, fired: set[str], wall_now: datetime) -> Alert:
    return replace(alert, firing_wall_at=wall_now) if alert.id in fired else alert


def notifications_for(
    changes: Sequence[AlertChange],
    config: AlertingConfig,
    *,
    notified: Mapping[str, set[str]],
) -> list[NewNotification]:
    """Firing and level changes go where the routes say; a resolve goes to every receiver that
    heard the alert fire (``notified``) and wants resolves."""
    result: list[NewNotification] = []
    for change in changes:
        alert = change.alert
        routed = {d.receiver: d for d in deliveries(alert.labels(), config.routes)}
        if change.kind in ("firing", "level_changed"):
            kind: NotificationKind = "firing" if change.kind == "firing" else "level_changed"
            result.extend(
                NewNotification(
                    alert=alert,
                    kind=kind,
                    receiver=d.receiver,
                    group_key=d.group_key,
                    group_wait_s=d.group_wait_s,
                    group_interval_s=d.group_interval_s,
                    previous_level=change.previous_level,
                )
                for d in routed.values()
            )
        elif change.kind == "resolved":
            for name in sorted(notified.get(alert.id, ())):
                receiver = config.receiver(name)
                if receiver is None or not receiver.send_resolved:
                    continue
                d = routed.get(name)
                result.append(
                    NewNotification(
                        alert=alert,
                        kind="resolved",
                        receiver=name,
                        group_key=d.group_key if d else f"resolved|{alert.fingerprint}",
                        group_wait_s=d.group_wait_s if d else 0.0,
                        group_interval_s=d.group_interval_s if d else 0.0,
                    )
                )
    return result
