"""Decisions on the wall clock: escalation steps once each, stopped by an acknowledgement; the
page after a silence lapses; reminders every repeat interval until acknowledged or resolved."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from alerts.config import AlertingConfig, Escalation
from alerts.delivery.escalate import Listener, due, follow_up, follow_ups, listeners
from alerts.delivery.silence import Matcher, Silence
from alerts.store.outbox import Heard
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


# After a silence, and reminders: ``follow_up`` with ``wall_now`` passed in.

HOOK = Listener(
    receiver="hook",
    first_kind="firing",
    group_key="0|rule=hub_overflow|subject=ZTO-HZ-01",
    group_interval_s=60,
    repeat_interval_s=3600,
)
FIRED = WALL0  # the alert went firing (wall clock)


def heard(
    state: str = "sent",
    *,
    muted: bool = False,
    sent_min: float | None = 0,
    level: str | None = "orange",
) -> Heard:
    """What the receiver was told: the newest row's state, and the last delivery (minutes after
    the alert fired, at ``level``; ``sent_min=None``: never delivered)."""
    return Heard(
        latest_id=7,
        latest_state=state,
        muted_by="s1" if muted else None,
        last_sent_at=None if sent_min is None else FIRED + timedelta(minutes=sent_min),
        last_sent_level=None if sent_min is None else level,
    )


MUTED_NEVER_TOLD = heard("suppressed", muted=True, sent_min=None)
MUTED_TOLD_ORANGE = heard("suppressed", muted=True, level="orange")
P = pytest.param


@pytest.mark.parametrize(
    ("told", "level_now", "flags", "minutes", "expected"),
    [
        # after a silence: told once what it missed
        P(MUTED_NEVER_TOLD, "orange", "", 30, ("firing", None), id="muted-never-told"),
        P(MUTED_NEVER_TOLD, "orange", "silenced", 30, None, id="muted-still-silenced"),
        P(MUTED_TOLD_ORANGE, "red", "", 30, ("level_changed", "orange"), id="muted-then-red"),
        P(MUTED_TOLD_ORANGE, "orange", "", 30, None, id="muted-knows-this-level"),
        P(MUTED_NEVER_TOLD, "orange", "acked", 30, ("firing", None), id="muted-acked-never-told"),
        # reminders: every repeat interval since last told, while nobody acknowledged
        P(heard(), "orange", "", 59, None, id="told-59-min-ago"),
        P(heard(), "orange", "", 60, ("reminder", None), id="told-60-min-ago"),
        P(heard(), "orange", "acked", 60, None, id="acknowledged"),
        P(heard(), "orange", "silenced", 60, None, id="silenced"),
        P(heard("pending"), "orange", "", 60, None, id="a-notification-pending"),
        P(MUTED_TOLD_ORANGE, "orange", "", 90, ("reminder", None), id="muted-knows-level-90-min"),
        P(heard("failed", sent_min=None), "orange", "", 600, None, id="never-delivered"),
        P(heard("suppressed"), "orange", "acked", 600, None, id="escalation-stopped-by-ack"),
    ],
)
def test_follow_up(
    told: Heard,
    level_now: str,
    flags: str,
    minutes: int,
    expected: tuple[str, str | None] | None,
) -> None:
    acked = "acked" in flags
    firing = alert(
        level=level_now,
        firing_wall_at=FIRED,
        acked_at=FIRED if acked else None,
        acked_by="oncall:1" if acked else None,
    )
    now = FIRED + timedelta(minutes=minutes)
    result = follow_up(firing, HOOK, told, silenced="silenced" in flags, wall_now=now)
    assert (None if result is None else (result.kind, result.previous_level)) == expected
    if result is not None:
        assert result.after_id == 7  # keyed by the row it follows: once, on every replica


def test_a_reminder_says_how_long_the_alert_has_fired() -> None:
    firing = alert(firing_wall_at=FIRED)
    result = follow_up(
        firing, HOOK, heard(sent_min=10), silenced=False, wall_now=FIRED + timedelta(minutes=75)
    )
    assert result is not None
    assert result.firing_for_s == 75 * 60


def test_nothing_to_follow_up_on_a_resolved_or_unheard_alert() -> None:
    late = FIRED + timedelta(hours=5)
    resolved = alert(state="resolved", firing_wall_at=FIRED)
    assert follow_up(resolved, HOOK, heard(), silenced=False, wall_now=late) is None
    assert follow_up(alert(firing_wall_at=FIRED), HOOK, None, silenced=False, wall_now=late) is None
    never = replace(HOOK, repeat_interval_s=None)
    assert (
        follow_up(alert(firing_wall_at=FIRED), never, heard(), silenced=False, wall_now=late)
        is None
    )


def test_listeners_are_route_receivers_then_escalated_ones() -> None:
    config = AlertingConfig.from_mapping(
        {
            "repeat_interval_s": 7200,
            "receivers": [
                {"type": "webhook", "name": "hook", "url": "http://hook"},
                {"type": "webhook", "name": "lead", "url": "http://lead", "repeat_interval_s": 0},
                {
                    "type": "email",
                    "name": "boss",
                    "host": "smtp",
                    "from_addr": "a@b",
                    "to": ["c@d"],
                },
                {"type": "alertmanager", "name": "am", "url": "http://am"},
            ],
            "routes": [
                {
                    "receivers": ["hook", "am"],
                    "group_interval_s": 30,
                    "repeat_interval_s": 1800,
                    "escalations": [
                        {"after_s": 600, "receivers": ["lead"]},
                        {"after_s": 1200, "receivers": ["boss"]},
                    ],
                }
            ],
        }
    )
    found = {
        w.receiver: (w.first_kind, w.group_interval_s, w.repeat_interval_s)
        for w in listeners(alert(escalation_step=1), config)
    }
    assert found == {
        "hook": ("firing", 30, 1800),  # the route's interval
        "am": ("firing", 30, None),  # Alertmanager repeats by itself
        "lead": ("escalation", 0, None),  # its own 0: never reminded
    }  # "boss": step 2 not taken yet


def test_follow_ups_skip_what_a_silence_still_mutes() -> None:
    config = AlertingConfig.from_mapping(
        {
            "receivers": [{"type": "webhook", "name": "hook", "url": "http://hook"}],
            "routes": [{"receivers": ["hook"]}],
        }
    )
    muted, loud = alert("ZJ-1", firing_wall_at=FIRED), alert("JS-1", firing_wall_at=FIRED)
    silence = Silence(
        id="s1",
        matchers=(Matcher("subject", "ZJ-1"),),
        starts_at=FIRED,
        ends_at=FIRED + timedelta(hours=3),
        created_by="oncall:1",
        created_at=FIRED,
    )
    told = {(a.id, "hook"): heard() for a in (muted, loud)}
    due = follow_ups([muted, loud], told, [silence], config, wall_now=FIRED + timedelta(hours=2))
    assert [(d.alert.subject, d.kind) for d in due] == [("JS-1", "reminder")]
