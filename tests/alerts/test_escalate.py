"""Escalation decisions on the wall clock: steps once each, stopped by an acknowledgement."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.config import Escalation
from alerts.escalate import due
from tests.alerts.factories import WALL0, alert

STEPS = [
    Escalation(after_s=600, receivers=("lead",)),
    Escalation(after_s=1800, receivers=("manager", "lead")),
]


@pytest.mark.parametrize(
    ("minutes", "step_done", "expected"),
    [
        (5, 0, None),
        (10, 0, (1, ("lead",))),
        (15, 1, None),
        (30, 1, (2, ("manager", "lead"))),
        (45, 0, (2, ("lead", "manager"))),  # missed both (service was down): one merged step
        (60, 2, None),
    ],
)
def test_steps(minutes: int, step_done: int, expected: tuple[int, tuple[str, ...]] | None) -> None:
    firing = alert(firing_wall_at=WALL0, escalation_step=step_done)
    result = due(firing, STEPS, wall_now=WALL0 + timedelta(minutes=minutes))
    assert (None if result is None else (result.step, result.receivers)) == expected


def test_acknowledged_alert_does_not_escalate() -> None:
    acked = alert(firing_wall_at=WALL0, acked_at=WALL0 + timedelta(minutes=1), acked_by="oncall:1")
    assert due(acked, STEPS, wall_now=WALL0 + timedelta(hours=1)) is None


def test_only_firing_alerts_escalate() -> None:
    for state in ("pending", "resolved"):
        assert (
            due(
                alert(state=state, firing_wall_at=WALL0), STEPS, wall_now=WALL0 + timedelta(hours=1)
            )
            is None
        )
