"""一日一报 sent by itself: which day's report is due at an event-time step (Beijing day
boundaries), the digest a chat receiver reads, the setting's one-line errors, and the scheduler
against a real SQLite store and a real local webhook: one send per report, even from a second
scheduler (replica) or a replay; a refused send is tried again at a later step."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select

from alerts.config import AlertingConfig
from alerts.store.report_sends import ReportSendRow
from alerts.store.reports import upsert_hours
from app.reports import schedule
from app.reports.model import DailyReport
from app.reports.schedule import ReportScheduler, days_due, due_day, report_link
from app.reports.send import digest
from core.errors import ConfigError
from core.reports import HOUR_SCHEMA
from storage.db import Database, open_database
from tests.alerts.notify.receiver import RobotReceiver

BJ = "+08:00"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text + BJ)


@pytest.mark.parametrize(
    ("step", "hour", "due"),
    [
        ("2026-11-12T08:00:00", 8, date(2026, 11, 11)),  # exactly at the hour: due
        ("2026-11-12T07:59:40", 8, date(2026, 11, 10)),  # a step before it: the day before's
        ("2026-11-12T00:00:00", 0, date(2026, 11, 11)),  # hour 0: at Beijing midnight
        ("2026-11-11T23:59:40", 0, date(2026, 11, 10)),
        ("2026-11-12T23:00:00", 23, date(2026, 11, 11)),
        ("2026-11-12T22:59:40", 23, date(2026, 11, 10)),
        ("2026-12-01T08:00:00", 8, date(2026, 11, 30)),  # across a month
        ("2027-01-01T08:00:00", 8, date(2026, 12, 31)),  # and a year
    ],
)
def test_the_report_due_at_a_step(step: str, hour: int, due: date) -> None:
    assert due_day(_at(step), hour) == due


def test_due_is_read_in_beijing_time_whatever_zone_the_step_is_in() -> None:
    step = datetime(2026, 11, 12, 0, 0, tzinfo=UTC)  # 08:00 Beijing time
    assert due_day(step, 8) == date(2026, 11, 11)
    assert due_day(step - timedelta(seconds=20), 8) == date(2026, 11, 10)


def test_the_days_due_over_a_run_of_steps() -> None:
    first, last = _at("2026-11-11T23:00:00"), _at("2026-11-12T08:30:00")
    assert days_due(first, last, 8) == [date(2026, 11, 10), date(2026, 11, 11)]
    assert days_due(last, last, 8, after=date(2026, 11, 9)) == [
        date(2026, 11, 10),
        date(2026, 11, 11),
    ]  # a day between two runs is not skipped
    long_replay = days_due(_at("2026-10-01T00:00:00"), last, 8)
    assert len(long_replay) == schedule.MAX_CATCH_UP_DAYS
    assert long_replay[-1] == date(2026, 11, 11)


def sample_report(**fields: Any) -> DailyReport:
    base: dict[str, Any] = {
        "date": "2026-11-11",
        "province": None,
        "carrier": None,
        "arrivals_total": 1_234_567,
        "departures_total": 987_654,
        "backlog_at_end": 12_345,
        "backlog_max": 23_456,
        "peak_hour": "21:00",
        "hourly": [],
        "levels_worst": {},
        "alerts": [],
        "incidents": [],
        "mitigations": [],
        "warnings": [],
        "silent_hubs": [],
        "hubs": [],
        "closest_to_overflow": [],
        "previous_day": None,
    }
    return DailyReport.model_validate(base | fields)


def test_the_digest_reads_as_a_regulator_s_summary() -> None:
    link = report_link("https://pw.example/", date(2026, 11, 11), None)
    assert link == "https://pw.example/v1/reports/daily?date=2026-11-11&format=html"
    short = digest(sample_report(), link=link)
    assert short.title == "一日一报 · 全国 · 2026-11-11"
    assert short.lines == (
        "进港 1,234,567 件 · 出港 987,654 件",
        "24时积压 12,345 件（最高 23,456 件）",
        "峰值时段 21:00（北京时间）",
        "预警 0 条 · 突发事件 0 起",
    )
    assert short.markdown().endswith(f"[{link}]({link})")
    english = digest(sample_report(province="浙江", peak_hour=None), link=link, language="en")
    assert english.title == "Daily report · 浙江 · 2026-11-11"
    assert "Peak hour — (Beijing time)" in english.lines


def test_a_province_s_link_names_it() -> None:
    link = report_link("http://pw", date(2026, 11, 11), "浙江")
    assert link.endswith("&province=%E6%B5%99%E6%B1%9F")


def _config(**daily: Any) -> dict[str, Any]:
    return {
        "receivers": [{"type": "webhook", "name": "hook", "url": "http://127.0.0.1:9/hook"}],
        "daily_report": daily,
    }


@pytest.mark.parametrize(
    ("daily", "message"),
    [
        ({"enabled": True, "receivers": ["nobody"]}, "daily_report names receiver 'nobody'"),
        ({"enabled": True}, "daily_report.enabled needs at least one name"),
        ({"hour": 24, "receivers": ["hook"]}, "daily_report.hour"),
        ({"hour": 8, "receivers": ["hook"], "when": "8"}, "daily_report.when"),
    ],
)
def test_a_bad_schedule_is_refused_naming_the_field(daily: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        AlertingConfig.from_mapping(_config(**daily))
    assert message in str(refused.value)


def test_the_schedule_is_off_by_default_at_eight() -> None:
    schedule_ = AlertingConfig.from_mapping({}).daily_report
    assert (schedule_.enabled, schedule_.hour, schedule_.provinces) == (False, 8, ())


# -- the scheduler against a real store and a real local webhook -----------------------------


def _hour_rows() -> pl.DataFrame:
    hour = _at("2026-11-11T21:00:00").astimezone(UTC)
    return pl.DataFrame(
        [
            {
                "hour_start": hour,
                "hub_id": "ZTO-HZ01",
                "carrier": "ZTO",
                "province": "浙江",
                "storage_capacity": 1_000,
                "arrivals": 1_500,
                "departures": 700,
                "backlog_end": 800,
                "backlog_end_at": hour + timedelta(hours=1),
                "backlog_max": 800,
                "level_rank": 1,
                "silent_max_s": 0.0,
            }
        ],
        schema=HOUR_SCHEMA,
    )


def _scheduler(
    receiver: RobotReceiver, *, secret: str | None = None, retry_after_s: float = 60.0
) -> ReportScheduler:
    config = AlertingConfig.from_mapping(
        {
            "receivers": [
                {
                    "type": "webhook",
                    "name": "hook",
                    "url": f"{receiver.url}/hook",
                    "secret": secret or receiver.webhook_secret,
                }
            ],
            "daily_report": {"enabled": True, "hour": 8, "receivers": ["hook"]},
        }
    )
    return ReportScheduler(
        config, public_url="http://pw", silent_after_s=600, retry_after_s=retry_after_s
    )


async def _run(scheduler: ReportScheduler, db: Database, first: str, last: str) -> None:
    scheduler.after_steps(_at(first), _at(last), db)
    await scheduler.idle()


async def _states(db: Database) -> dict[str, str]:
    async with db.sessionmaker() as session:
        rows = (await session.execute(select(ReportSendRow))).scalars().all()
    return {row.day.isoformat(): row.state for row in rows}


async def test_each_report_is_sent_once_by_two_replicas_and_a_replay(tmp_path: Path) -> None:
    receiver = RobotReceiver().start()
    db = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    try:
        async with db.sessionmaker.begin() as session:
            await upsert_hours(session, _hour_rows())
        one, two = _scheduler(receiver), _scheduler(receiver)
        await _run(one, db, "2026-11-12T07:00:00", "2026-11-12T07:59:40")
        assert receiver.accepted("/hook") == []  # not yet: 08:00 has not passed
        await _run(one, db, "2026-11-12T08:00:00", "2026-11-12T08:30:00")
        await _run(two, db, "2026-11-11T22:00:00", "2026-11-12T09:00:00")  # another replica
        await _run(_scheduler(receiver), db, "2026-11-12T08:00:00", "2026-11-12T08:00:00")
        sent = [r.json() for r in receiver.accepted("/hook")]
        assert [(m["date"], m["arrivals_total"], m["link"]) for m in sent] == [
            ("2026-11-11", 1_500, "http://pw/v1/reports/daily?date=2026-11-11&format=html")
        ]
        assert "进港 1,500 件 · 出港 700 件" in sent[0]["text"]
        assert await _states(db) == {"2026-11-10": "empty", "2026-11-11": "sent"}
    finally:
        receiver.stop()
        await db.close()


async def test_a_refused_send_is_tried_again_at_a_later_step(tmp_path: Path) -> None:
    receiver = RobotReceiver().start()
    receiver.stop()  # nobody listens: connection refused
    db = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    try:
        async with db.sessionmaker.begin() as session:
            await upsert_hours(session, _hour_rows())
        patient = _scheduler(receiver)
        eager = _scheduler(receiver, retry_after_s=0.0)
        await _run(patient, db, "2026-11-12T08:00:00", "2026-11-12T08:00:00")
        await _run(eager, db, "2026-11-12T08:00:00", "2026-11-12T08:00:00")
        assert await _states(db) == {}  # both claims were given back
        receiver.start()  # listening again, on the same port
        await _run(patient, db, "2026-11-12T08:00:20", "2026-11-12T08:00:20")
        assert receiver.accepted("/hook") == []  # it waits RETRY_AFTER_S after a failure
        await _run(eager, db, "2026-11-12T08:00:20", "2026-11-12T08:00:20")
        assert [json.loads(r.body)["date"] for r in receiver.accepted("/hook")] == ["2026-11-11"]
        assert await _states(db) == {"2026-11-11": "sent"}
    finally:
        receiver.stop()
        await db.close()


async def test_a_send_refused_for_good_is_marked_failed_and_not_repeated(tmp_path: Path) -> None:
    receiver = RobotReceiver(webhook_secret="another-secret").start()  # 401: bad signature
    db = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    try:
        async with db.sessionmaker.begin() as session:
            await upsert_hours(session, _hour_rows())
        scheduler = _scheduler(receiver, secret="webhook-secret", retry_after_s=0.0)
        await _run(scheduler, db, "2026-11-12T08:00:00", "2026-11-12T08:00:00")
        await _run(scheduler, db, "2026-11-12T08:00:20", "2026-11-12T08:00:20")
        assert len(receiver.received) == 1  # tried once, refused, not tried again
        assert receiver.accepted() == []
        assert await _states(db) == {"2026-11-11": "failed"}
    finally:
        receiver.stop()
        await db.close()
