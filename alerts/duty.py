"""The duty roster (值班表): who is on duty, and which leader is on call, for a province, by shift.

    roster = parse_roster_csv(text)        # a duty office's sheet; RosterError names each bad row
    person = on_duty(roster, "浙江", at)    # that province's person on duty at ``at``, else CN's

A shift is one person in one role (``duty`` 值班人员 or ``leader`` 带班领导) for one province
(or ``CN``, the national duty office) from ``starts_at`` to ``ends_at`` (aware datetimes, end
excluded), with the contacts notifications use (phone, e-mail, DingTalk/WeCom/Feishu user id) and
the hand-over note (交接班记录). Pure: no clock, no I/O.

The CSV a duty office keeps has one row per day and shift: 日期,班次,省份,值班人员,带班领导,电话,
邮箱 (English headers work too, see ``COLUMNS``). 班次 is 白班 (08:00–20:00), 夜班 (20:00–08:00
next day), 全天 (00:00–24:00) or ``HH:MM-HH:MM``; times are Beijing time unless 开始/结束 give
full RFC 3339 times. 电话/邮箱 are the person on duty's; 领导电话/领导邮箱 the leader's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from core.errors import PeakwatchError

BEIJING = timezone(timedelta(hours=8), "UTC+8")
NATIONAL = "CN"
DutyRole = Literal["duty", "leader"]
SHIFTS: dict[str, tuple[time, time]] = {
    "白班": (time(8), time(20)),
    "day": (time(8), time(20)),
    "夜班": (time(20), time(8)),
    "night": (time(20), time(8)),
    "全天": (time(0), time(0)),
    "all day": (time(0), time(0)),
}
COLUMNS: dict[str, str] = {
    "日期": "date", "date": "date",
    "班次": "shift", "shift": "shift",
    "开始": "starts_at", "starts_at": "starts_at", "start": "starts_at",
    "结束": "ends_at", "ends_at": "ends_at", "end": "ends_at",
    "省份": "province", "province": "province",
    "值班人员": "person", "person": "person", "duty": "person",
    "带班领导": "leader", "leader": "leader",
    "电话": "phone", "phone": "phone",
    "邮箱": "email", "email": "email",
    "领导电话": "leader_phone", "leader_phone": "leader_phone",
    "领导邮箱": "leader_email", "leader_email": "leader_email",
    "钉钉": "dingtalk_id", "dingtalk": "dingtalk_id", "dingtalk_id": "dingtalk_id",
    "企业微信": "wecom_id", "wecom": "wecom_id", "wecom_id": "wecom_id",
    "飞书": "feishu_id", "feishu": "feishu_id", "feishu_id": "feishu_id",
    "交接班记录": "note", "交接": "note", "note": "note", "handover_note": "note",
}  # fmt: skip
"""Header (Chinese or English) → field. Unknown headers are refused, so a typo is not lost."""


class RosterError(PeakwatchError):
    """A roster that cannot be taken; ``problems`` lists every bad row as ``line N, field: why``."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class Shift(BaseModel):
    """One person in one role for one province (or ``CN``) from ``starts_at`` to ``ends_at``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person: str = Field(min_length=1, max_length=64)
    role: DutyRole = "duty"
    province: str = Field(min_length=1, max_length=64)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=128, pattern=r"^[^@\s]+@[^@\s]+$")
    dingtalk_id: str | None = Field(default=None, max_length=64)
    wecom_id: str | None = Field(default=None, max_length=64)
    feishu_id: str | None = Field(default=None, max_length=64)
    handover_note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _ends_after_start(self) -> Shift:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    def covers(self, at: datetime) -> bool:
        """Is ``at`` within the shift (start included, end excluded)?"""
        return self.starts_at <= at < self.ends_at


def on_duty(
    roster: Iterable[Shift], province: str | None, at: datetime, *, role: DutyRole = "duty"
) -> Shift | None:
    """Who holds ``role`` for ``province`` at ``at``: that province's shift, else the national
    (``CN``) one, else None. Of overlapping shifts (a hand-over) the one that started last wins."""
    shifts = [s for s in roster if s.role == role and s.covers(at)]
    for wanted in (province, NATIONAL):
        found = [s for s in shifts if s.province == wanted]
        if found:
            return max(found, key=lambda s: s.starts_at)
    return None


def parse_roster_csv(text: str) -> list[Shift]:
    """The shifts of a duty office's CSV sheet (see the module docstring for its columns).

    Raises ``RosterError`` naming every bad row by line and field; nothing is taken then.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None:
        raise RosterError(["line 1: the sheet is empty; it needs a header row"])
    fields, problems = _header(header)
    if problems:
        raise RosterError(problems)
    shifts: list[Shift] = []
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        record = {f: c.strip() for f, c in zip(fields, cells, strict=False) if c.strip()}
        try:
            shifts.extend(_shifts_of(record))
        except (ValueError, RosterError) as error:
            problems.extend(f"line {line}, {reason}" for reason in _reasons(error))
    if problems:
        raise RosterError(problems)
    return shifts


def _header(header: Sequence[str]) -> tuple[list[str], list[str]]:
    fields = [COLUMNS.get(name.strip().lower(), COLUMNS.get(name.strip(), "")) for name in header]
    problems = [
        f"line 1, {name!r}: not a roster column (known: {', '.join(sorted(set(COLUMNS)))})"
        for name, field in zip(header, fields, strict=True)
        if not field
    ]
    if "province" not in fields or not {"person", "leader"} & set(fields):
        problems.append(
            "line 1: the header needs 省份/province and 值班人员/person or 带班领导/leader"
        )
    return fields, problems


def _reasons(error: Exception) -> list[str]:
    if isinstance(error, RosterError):
        return error.problems
    errors = getattr(error, "errors", None)
    if callable(errors):
        return [f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in errors()]
    return [str(error)]


def _shifts_of(record: Mapping[str, str]) -> list[Shift]:
    starts_at, ends_at = _window(record)
    province = "CN" if record.get("province") in ("全国", "CN", "cn") else record.get("province")
    common = {"province": province, "starts_at": starts_at, "ends_at": ends_at}
    shifts = []
    if "person" in record:
        shifts.append(
            Shift.model_validate(
                {
                    **common,
                    "person": record["person"],
                    "role": "duty",
                    "phone": record.get("phone"),
                    "email": record.get("email"),
                    "dingtalk_id": record.get("dingtalk_id"),
                    "wecom_id": record.get("wecom_id"),
                    "feishu_id": record.get("feishu_id"),
                    "handover_note": record.get("note", ""),
                }
            )
        )
    if "leader" in record:
        leader = {"phone": record.get("leader_phone"), "email": record.get("leader_email")}
        shifts.append(
            Shift.model_validate({**common, **leader, "person": record["leader"], "role": "leader"})
        )
    if not shifts:
        raise RosterError(["值班人员/person: a row needs a person on duty or a leader"])
    return shifts


def _window(record: Mapping[str, str]) -> tuple[datetime, datetime]:
    if "starts_at" in record and "ends_at" in record and "date" not in record:
        return _moment(record["starts_at"], "starts_at"), _moment(record["ends_at"], "ends_at")
    if "date" not in record:
        raise RosterError(["日期/date: missing (or give 开始 and 结束 as full times)"])
    try:
        day = date.fromisoformat(record["date"].replace("/", "-"))
    except ValueError as error:
        raise RosterError([f"日期/date: {record['date']!r} is not YYYY-MM-DD"]) from error
    start, end = _shift_times(record.get("shift", "全天"))
    starts_at = datetime.combine(day, start, BEIJING)
    ends_at = datetime.combine(day, end, BEIJING)
    if ends_at <= starts_at:  # a night shift, or 全天: it ends the next day
        ends_at += timedelta(days=1)
    return starts_at, ends_at


def _shift_times(name: str) -> tuple[time, time]:
    known = SHIFTS.get(name.strip().lower())
    if known is not None:
        return known
    start, sep, end = name.partition("-")
    try:
        if not sep:
            raise ValueError(name)
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError as error:
        raise RosterError(
            [f"班次/shift: {name!r} is not 白班, 夜班, 全天 or HH:MM-HH:MM"]
        ) from error


def _moment(text: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise RosterError([f"{field}: {text!r} is not an RFC 3339 time"]) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)
