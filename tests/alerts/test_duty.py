"""The duty roster: a duty office's CSV sheet, every bad row named, and who is on duty when
(``alerts.duty``: pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.duty import BEIJING, RosterError, Shift, on_duty, parse_roster_csv

SHEET = """日期,班次,省份,值班人员,带班领导,电话,邮箱,钉钉
2025-11-11,白班,浙江,王伟,李强,13800000001,wangwei@post.example,ding-wangwei
2025-11-11,夜班,浙江,赵敏,李强,13800000002,zhaomin@post.example,
2025-11-11,全天,全国,陈静,周国栋,13800000003,chenjing@post.example,
"""


def beijing(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 11, day, hour, minute, tzinfo=BEIJING)


def test_a_duty_office_sheet_becomes_shifts_in_beijing_time() -> None:
    roster = parse_roster_csv(SHEET)
    assert len(roster) == 6  # a person on duty and a leader per row
    day = next(s for s in roster if s.person == "王伟")
    assert (day.starts_at, day.ends_at) == (beijing(11, 8), beijing(11, 20))
    assert (day.email, day.dingtalk_id, day.role) == (
        "wangwei@post.example",
        "ding-wangwei",
        "duty",
    )
    night = next(s for s in roster if s.person == "赵敏")
    assert night.ends_at == beijing(12, 8)  # a night shift ends the next morning
    national = next(s for s in roster if s.person == "陈静")
    assert (national.province, national.ends_at) == ("CN", beijing(12, 0))


@pytest.mark.parametrize(
    ("province", "at", "role", "expected"),
    [
        ("浙江", beijing(11, 9), "duty", "王伟"),
        ("浙江", beijing(11, 20), "duty", "赵敏"),  # the hand-over: the end is excluded
        ("浙江", beijing(12, 7, 59), "duty", "赵敏"),
        ("浙江", beijing(11, 9), "leader", "李强"),
        ("广东", beijing(11, 9), "duty", "陈静"),  # no shift of its own: the national office
        (None, beijing(11, 9), "leader", "周国栋"),
        ("浙江", beijing(12, 9), "duty", None),  # nobody on the sheet then
    ],
)
def test_who_is_on_duty(
    province: str | None, at: datetime, role: str, expected: str | None
) -> None:
    found = on_duty(parse_roster_csv(SHEET), province, at, role=role)  # type: ignore[arg-type]
    assert (found.person if found else None) == expected


def test_overlapping_shifts_the_later_one_takes_over() -> None:
    common = {"role": "duty", "province": "浙江"}
    early = Shift(person="甲", starts_at=beijing(11, 8), ends_at=beijing(11, 20), **common)
    late = Shift(person="乙", starts_at=beijing(11, 19), ends_at=beijing(12, 8), **common)
    assert on_duty([late, early], "浙江", beijing(11, 19, 30)).person == "乙"  # type: ignore[union-attr]


def test_a_bad_sheet_names_each_bad_row_by_line_and_field() -> None:
    sheet = (
        "日期,班次,省份,值班人员,电话,邮箱\n"
        "2025-11-11,白班,浙江,王伟,138,wangwei@post.example\n"
        "2025-11-32,白班,浙江,赵敏,139,zhaomin@post.example\n"
        "2025-11-12,早班,浙江,孙丽,137,sunli@post.example\n"
        "2025-11-12,夜班,浙江,周杰,136,not-an-address\n"
    )
    with pytest.raises(RosterError) as caught:
        parse_roster_csv(sheet)
    problems = caught.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("line 3, 日期/date: '2025-11-32'")
    assert problems[1].startswith("line 4, 班次/shift: '早班'")
    assert problems[2].startswith("line 5, email:")


def test_an_unknown_column_is_refused_not_dropped() -> None:
    with pytest.raises(RosterError, match="line 1, '手机号': not a roster column"):
        parse_roster_csv("日期,班次,省份,值班人员,手机号\n2025-11-11,白班,浙江,王伟,138\n")


def test_english_headers_and_full_times_work_too() -> None:
    sheet = (
        "starts_at,ends_at,province,person,phone\n"
        "2025-11-11T08:00:00+08:00,2025-11-11T20:00:00+08:00,浙江,Wang Wei,138\n"
    )
    (shift,) = parse_roster_csv(sheet)
    assert shift.starts_at == datetime(2025, 11, 11, 0, tzinfo=UTC)
    assert shift.ends_at - shift.starts_at == timedelta(hours=12)


def test_a_shift_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="ends_at must be after starts_at"):
        Shift(person="甲", province="浙江", starts_at=beijing(11, 8), ends_at=beijing(11, 8))
