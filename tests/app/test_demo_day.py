"""The demo's duty sheet is one a duty office could keep: it parses, and at the demo night's
midnight surge the warned province and the national office both have someone on duty."""

from __future__ import annotations

from datetime import date, datetime

from alerts.duty import on_duty, parse_roster_csv
from app.demo_day import roster_csv
from simulator.profile import BEIJING_TZ


def test_the_demo_roster_names_who_is_on_duty_through_the_night() -> None:
    shifts = parse_roster_csv(roster_csv(["黑龙江", "浙江"], date(2026, 11, 10)))
    midnight = datetime(2026, 11, 11, 0, 30, tzinfo=BEIJING_TZ)
    heilongjiang = on_duty(shifts, "黑龙江", midnight)
    assert heilongjiang is not None
    assert "黑龙江" in heilongjiang.person
    national = on_duty(shifts, "四川", midnight)  # no provincial shift: the national office
    assert national is not None
    assert "国家局" in national.person
