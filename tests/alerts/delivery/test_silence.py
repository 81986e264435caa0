"""Silences: every matcher must match; equal / not equal / regex; a wall-clock window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.delivery.silence import Matcher, SilenceError, new_silence, silenced_by
from tests.alerts.factories import WALL0

LABELS = {
    "rule": "hub_silent",
    "scope": "hub",
    "subject": "ZTO-HZ-01",
    "level": "yellow",
    "province": "浙江",
    "carrier": "ZTO",
}


@pytest.mark.parametrize(
    ("matchers", "mutes"),
    [
        ([Matcher("rule", "hub_silent")], True),
        ([Matcher("rule", "hub_silent"), Matcher("carrier", "YTO")], False),
        ([Matcher("province", "浙江|江苏", is_regex=True)], True),
        ([Matcher("subject", "ZTO-.*", is_regex=True)], True),
        ([Matcher("subject", "HZ", is_regex=True)], False),  # the whole value must match
        ([Matcher("level", "red", is_equal=False)], True),
        ([Matcher("hub_id", "")], True),  # a missing label matches as empty
    ],
)
def test_matchers(matchers: list[Matcher], mutes: bool) -> None:
    silence = new_silence(
        silence_id="s",
        matchers=matchers,
        starts_at=None,
        ends_at=WALL0 + timedelta(hours=1),
        created_by="oncall:1",
        comment="",
        now=WALL0,
    )
    assert (silenced_by(LABELS, [silence], now=WALL0) is not None) is mutes


def test_window_is_wall_clock_start_inclusive_end_exclusive() -> None:
    silence = new_silence(
        silence_id="s",
        matchers=[Matcher("rule", "hub_silent")],
        starts_at=WALL0 + timedelta(minutes=10),
        ends_at=WALL0 + timedelta(minutes=20),
        created_by="oncall:1",
        comment="maintenance",
        now=WALL0,
    )
    at = [
        silenced_by(LABELS, [silence], now=WALL0 + timedelta(minutes=m)) is not None
        for m in (5, 10, 19, 20)
    ]
    assert at == [False, True, True, False]


@pytest.mark.parametrize(
    ("matchers", "ends_in_s", "message"),
    [
        ([], 60, "at least one"),
        ([Matcher("colour", "red")], 60, "colour"),
        ([Matcher("rule", "(", is_regex=True)], 60, "regular expression"),
        ([Matcher("rule", "hub_silent")], -60, "ends_at"),
    ],
)
def test_bad_silences_are_refused(matchers: list[Matcher], ends_in_s: int, message: str) -> None:
    with pytest.raises(SilenceError, match=message):
        new_silence(
            silence_id="s",
            matchers=matchers,
            starts_at=None,
            ends_at=WALL0 + timedelta(seconds=ends_in_s),
            created_by="oncall:1",
            comment="",
            now=WALL0,
        )
