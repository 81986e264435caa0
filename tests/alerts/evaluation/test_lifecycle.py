"""Lifecycle decisions, table-driven: a sequence of ticks (event time, level or absent) in,
the transitions and the alert's state out. Periods: pending 120 s, clear 300 s."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from alerts.config import RulePeriods
from alerts.evaluation.lifecycle import decide
from alerts.model import Alert
from tests.alerts.factories import T0, alert, signal

PERIODS = RulePeriods(pending_s=120, clear_s=300)
Tick = tuple[int, str | None]  # (seconds after T0, level or None for "absent")


def run(ticks: list[Tick], *, periods: RulePeriods = PERIODS) -> tuple[list[str], Alert | None]:
    """Feed the ticks for one hub; return the transitions ("kind:level") and the last alert."""
    ids = (f"a{n}" for n in itertools.count())
    active: dict[str, Alert] = {}
    last: Alert | None = None
    seen: list[str] = []
    for seconds, level in ticks:
        signals = {} if level is None else {signal(level=level).fingerprint: signal(level=level)}
        decision = decide(
            active,
            signals,
            now=T0 + timedelta(seconds=seconds),
            periods=lambda _rule: periods,
            authoritative=lambda _scope, _subject: True,
            new_id=lambda: next(ids),
        )
        seen += [f"{c.kind}:{c.alert.level}" for c in decision.changes]
        for changed in (*decision.inserts, *decision.updates):
            last = changed
            active = {} if changed.state == "resolved" else {changed.fingerprint: changed}
        if decision.deletes:
            active, last = {}, None
    return seen, last


@pytest.mark.parametrize(
    ("ticks", "transitions", "state"),
    [
        pytest.param([(0, "orange")], ["pending:orange"], "pending", id="new-signal-is-pending"),
        pytest.param(
            [(0, "orange"), (60, "orange"), (119, "orange")],
            ["pending:orange"],
            "pending",
            id="not-yet-held-for-the-pending-period",
        ),
        pytest.param(
            [(0, "orange"), (60, "orange"), (120, "orange")],
            ["pending:orange", "firing:orange"],
            "firing",
            id="fires-once-held-for-the-pending-period",
        ),
        pytest.param(
            [(0, "yellow"), (60, "red"), (120, "orange")],
            ["pending:yellow", "firing:orange"],
            "firing",
            id="fires-at-the-level-it-has-then",
        ),
        pytest.param(
            [(0, "orange"), (60, None), (120, "orange")],
            ["pending:orange", "cancelled:orange", "pending:orange"],
            "pending",
            id="a-gap-while-pending-starts-over",
        ),
        pytest.param(
            [(0, "orange"), (120, "orange"), (180, "red")],
            ["pending:orange", "firing:orange", "level_changed:red"],
            "firing",
            id="worse-level-changes-at-once",
        ),
        pytest.param(
            [(0, "orange"), (120, "orange"), (180, "yellow"), (300, "orange"), (400, "yellow")],
            ["pending:orange", "firing:orange"],
            "firing",
            id="better-level-must-hold-for-the-clear-period",
        ),
        pytest.param(
            [(0, "orange"), (120, "orange"), (180, "yellow"), (420, "yellow"), (480, "yellow")],
            ["pending:orange", "firing:orange", "level_changed:yellow"],
            "firing",
            id="steps-down-after-the-clear-period",
        ),
        pytest.param(
            [(0, "orange"), (120, "orange"), (180, None), (400, None)],
            ["pending:orange", "firing:orange"],
            "firing",
            id="clear-for-less-than-the-clear-period-keeps-firing",
        ),
        pytest.param(
            [(0, "orange"), (120, "orange"), (180, None), (480, None)],
            ["pending:orange", "firing:orange", "resolved:orange"],
            "resolved",
            id="resolves-after-the-clear-period",
        ),
        pytest.param(
            [
                (0, "orange"),
                (120, "orange"),
                (180, None),
                (400, "orange"),
                (500, None),
                (700, None),
            ],
            ["pending:orange", "firing:orange"],
            "firing",
            id="a-signal-in-between-restarts-the-clear-clock",
        ),
    ],
)
def test_transitions(ticks: list[Tick], transitions: list[str], state: str) -> None:
    seen, last = run(ticks)
    assert seen == transitions
    assert last is not None
    assert last.state == state


def test_flapping_on_a_threshold_notifies_once() -> None:
    # Orange long enough to fire, then the value sits on the line and blinks for an hour.
    blinking = [(s, ("orange", "yellow", None)[s // 30 % 3]) for s in range(150, 3600, 30)]
    seen, last = run([(0, "orange"), (60, "orange"), (120, "orange"), *blinking])
    assert [t for t in seen if t.startswith(("firing", "resolved", "level_changed"))] == [
        "firing:orange"
    ]
    assert last is not None
    assert last.state == "firing"


def test_blinking_at_the_lowest_threshold_never_fires() -> None:
    # As in Prometheus: pending needs the condition to hold on every tick of the period.
    seen, _ = run([(s, ("blue", None)[s // 30 % 2]) for s in range(0, 3600, 30)])
    assert not [t for t in seen if t.startswith("firing")]


def test_zero_pending_period_fires_on_the_first_tick() -> None:
    seen, last = run([(0, "red")], periods=RulePeriods(pending_s=0, clear_s=0))
    assert seen == ["firing:red"]
    assert last is not None
    assert last.fired_at == T0


def test_resolved_at_is_when_the_condition_stopped_holding() -> None:
    _, last = run([(0, "orange"), (120, "orange"), (180, None), (480, None)])
    assert last is not None
    assert last.resolved_at == T0 + timedelta(seconds=180)
    assert last.started_at == T0
    assert last.fired_at == T0 + timedelta(seconds=120)


def test_a_level_change_keeps_the_alert_id() -> None:
    ids = iter(["first", "second"])
    active: dict[str, Alert] = {}
    for seconds, level in [(0, "yellow"), (200, "yellow"), (260, "orange")]:
        decision = decide(
            active,
            {signal(level=level).fingerprint: signal(level=level)},
            now=T0 + timedelta(seconds=seconds),
            periods=lambda _rule: PERIODS,
            authoritative=lambda _scope, _subject: True,
            new_id=lambda: next(ids),
        )
        for changed in (*decision.inserts, *decision.updates):
            active = {changed.fingerprint: changed}
    assert [a.id for a in active.values()] == ["first"]
    assert [a.level for a in active.values()] == ["orange"]


def test_subjects_of_other_replicas_are_left_alone() -> None:
    mine, theirs = signal("MINE-1"), signal("THEIRS-1")
    decision = decide(
        {theirs.fingerprint: alert("THEIRS-1")},
        {mine.fingerprint: mine},  # theirs is absent here: another replica owns that hub
        now=T0 + timedelta(hours=1),
        periods=lambda _rule: PERIODS,
        authoritative=lambda _scope, subject: subject == "MINE-1",
        new_id=lambda: "new",
    )
    assert [c.alert.subject for c in decision.changes] == ["MINE-1"]
    assert decision.updates == []
    assert decision.deletes == []
