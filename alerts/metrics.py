"""Alerting's Prometheus metrics (names from docs/metrics.md), built on a registry passed in."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge

from alerts.model import Alert, AlertChange


class AlertMetrics:
    """``peakwatch_alerts``, ``…_alert_transitions_total``, ``…_notifications_total``, outbox."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        registry = registry if registry is not None else CollectorRegistry()
        self.alerts = Gauge(
            "peakwatch_alerts",
            "Alerts now pending or firing (those this replica is authoritative for)",
            ["rule", "level", "state"],
            registry=registry,
        )
        self.transitions = Counter(
            "peakwatch_alert_transitions",
            "Alert lifecycle transitions",
            ["rule", "to"],
            registry=registry,
        )
        self.notifications = Counter(
            "peakwatch_notifications",
            "Notifications by receiver and outcome: sent, retry, failed, suppressed",
            ["receiver", "outcome"],
            registry=registry,
        )
        self.outbox_pending = Gauge(
            "peakwatch_notification_outbox_pending",
            "Notifications recorded, not yet delivered",
            registry=registry,
        )

    def observe_changes(self, changes: Iterable[AlertChange]) -> None:
        """Count lifecycle transitions (acknowledgements and escalations are not transitions)."""
        for change in changes:
            if change.kind not in ("acked", "escalated"):
                self.transitions.labels(rule=change.alert.rule, to=change.kind).inc()

    def set_active(self, alerts: Iterable[Alert]) -> None:
        """Replace the ``peakwatch_alerts`` series with counts of ``alerts``."""
        counts = Tally((a.rule, a.level, a.state) for a in alerts)
        self.alerts.clear()
        for (rule, level, state), count in counts.items():
            self.alerts.labels(rule=rule, level=level, state=state).set(count)

    def count_notifications(self, receiver: str, outcome: str, amount: int = 1) -> None:
        """Add ``amount`` notifications with ``outcome`` for ``receiver``."""
        if amount:
            self.notifications.labels(receiver=receiver, outcome=outcome).inc(amount)
