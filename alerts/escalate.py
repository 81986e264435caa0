"""Escalation: a firing alert nobody acknowledged in time goes to the next receivers. Pure.

Steps come from the routes that match the alert (``escalations = [{after_s, receivers}]``) and
count from ``firing_wall_at``, the wall-clock moment the alert went firing. Each step is taken
once (``escalation_step`` remembers the last); an acknowledgement or a resolve stops them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.config import Escalation
from alerts.model import Alert


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
