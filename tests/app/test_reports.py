"""The daily report through a running service: events at known times of 11 November 2026 (and
one late on the 10th) give exact totals, hours, peak hour and hub table; a carrier key reads the
same report of its own hubs with no competitor's hub or number; bad queries are 422s naming the
field; the CSV holds the hub table and the printable page renders in Chromium; and
``peakwatch report daily`` prints a day from the store."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from playwright.sync_api import sync_playwright
from polars.testing import assert_frame_equal

from alerts.store.reports import hours_between, upsert_hours
from app.cli import main
from app.reports.recorder import HourRecorder
from core.config import RiskConfig
from core.engine import Engine, StepResult
from core.reports import HOUR_SCHEMA
from storage.db import open_database
from tests.core import factories
from tests.support.service import Service, call, hub_line, make_service, wait_for

T0_MS = 1_794_326_400_000  # 2026-11-11 00:00 Beijing time
MINUTE_MS, HOUR_MS = 60_000, 3_600_000
NO_PENDING = {
    "PEAKWATCH_ALERTING": json.dumps({"default_periods": {"pending_s": 0, "clear_s": 300}})
}
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DAY = "/v1/reports/daily?date=2026-11-11"


def _event(hub: str, number: int, ts_ms: int, kind: str, parcels: int) -> dict[str, Any]:
    return {
        "event_id": f"{hub}-{kind}-{number}",
        "carrier": hub.split("-")[0],
        "hub_id": hub,
        "ts": ts_ms,
        "kind": kind,
        "parcels": parcels,
    }


def _minutes(hub: str, arrivals: int, departures: int) -> list[dict[str, Any]]:
    """40 minutes from 09:05 Beijing time, at half past each minute."""
    start = T0_MS + 9 * HOUR_MS + 5 * MINUTE_MS + 30_000
    events = []
    for i in range(40):
        events.append(_event(hub, i, start + i * MINUTE_MS, "arrival", arrivals))
        events.append(_event(hub, i, start + i * MINUTE_MS, "departure", departures))
    return events


EVENTS = [
    _event("YTO-HZ01", 100, T0_MS - 30_000, "arrival", 5),  # 23:59:30 on the 10th
    _event("ZTO-NJ01", 100, T0_MS + 8 * HOUR_MS + 30 * MINUTE_MS, "arrival", 10),  # 08:30
    _event("ZTO-HZ01", 0, T0_MS + 9 * HOUR_MS + 5 * MINUTE_MS, "backlog", 950),  # 95 % full
    *_minutes("ZTO-HZ01", 100, 100),
    *_minutes("ZTO-NJ01", 50, 20),
    *_minutes("YTO-HZ01", 7, 3),
]
NATION = {"arrivals_total": 6_290, "departures_total": 4_920, "backlog_at_end": 2_325}
HUBS = {  # hub: (arrivals, departures, backlog at the end of the day)
    "YTO-HZ01": (280, 120, 165),
    "ZTO-HZ01": (4_000, 4_000, 950),
    "ZTO-NJ01": (2_010, 800, 1_210),
}


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str
) -> Iterator[tuple[Service, dict[str, str]]]:
    """A service fed the day's events, and a key per role."""
    hubs = "\n".join(
        [
            hub_line("ZTO-HZ01", "ZTO", storage_capacity=1_000),
            hub_line("ZTO-NJ01", "ZTO", province="江苏", city="南京"),
            hub_line("YTO-HZ01", "YTO"),
        ]
    )
    service = make_service(
        tmp_path_factory.mktemp("reports"), kafka_bootstrap, hubs, overrides=NO_PENDING
    )
    service.start()
    keys = {"admin": service.admin_key}
    try:
        for role in ("regulator", "carrier:ZTO", "carrier:YTO"):
            response = call(service, service.admin_key, "POST", "/v1/api-keys", {"role": role})
            assert response.status_code == 201, response.text
            keys[role] = response.json()["key"]
        _declare_the_day(service, keys)
        posted = call(service, service.admin_key, "POST", "/v1/events", {"events": EVENTS})
        assert posted.json()["accepted"] == len(EVENTS), posted.text
        wait_for(
            lambda: _report(service, keys["regulator"])["arrivals_total"] == 6_290,
            timeout_s=60,
            what="the day's arrivals in the report",
            describe=lambda: _report(service, keys["regulator"]),
        )
        yield service, keys
    finally:
        service.kill()


WARNING = {
    "kind": "blizzard",
    "colour": "orange",
    "province": "浙江",
    "valid_from": "2026-11-11T06:00:00+08:00",
    "valid_to": "2026-11-12T06:00:00+08:00",
    "source": "浙江省气象台",
    "text": "浙北地区有暴雪",
}


def _measure(hub_id: str) -> dict[str, Any]:
    return {
        "hub_id": hub_id,
        "kind": "extra_trucks",
        "starts_at": "2026-11-11T09:00:00+08:00",
        "planned_end_at": "2026-11-11T18:00:00+08:00",
        "expected_effect": "出港能力提升三成",
    }


def _declare_the_day(service: Service, keys: dict[str, str]) -> None:
    """A warning over 浙江 and one measure per carrier, stored before the events."""
    answers = [
        call(service, keys["regulator"], "POST", "/v1/warnings", WARNING),
        call(service, keys["carrier:ZTO"], "POST", "/v1/mitigations", _measure("ZTO-HZ01")),
        call(service, keys["carrier:YTO"], "POST", "/v1/mitigations", _measure("YTO-HZ01")),
    ]
    for answer in answers:
        assert answer.status_code == 201, answer.text


def _report(service: Service, key: str, query: str = "") -> dict[str, Any]:
    response = call(service, key, "GET", DAY + query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.integration
def test_the_nation_s_day_exact(world: tuple[Service, dict[str, str]]) -> None:
    service, keys = world
    report = _report(service, keys["regulator"])
    assert {name: report[name] for name in NATION} == NATION
    assert (report["date"], report["province"], report["peak_hour"]) == (
        "2026-11-11",
        None,
        "09:00",
    )
    assert len(report["hourly"]) == 24
    assert report["hourly"][8] == {"hour": "08:00", "arrivals": 10, "departures": 0, "backlog": 15}
    assert report["hourly"][9]["arrivals"] == 6_280
    assert sum(h["departures"] for h in report["hourly"]) == 4_920
    assert report["backlog_max"] == 2_325
    table = {
        h["hub_id"]: (h["arrivals"], h["departures"], h["backlog_end"]) for h in report["hubs"]
    }
    assert table == HUBS
    assert report["closest_to_overflow"][0]["hub_id"] == "ZTO-HZ01"  # 95 % full
    assert report["closest_to_overflow"][0]["utilization_max"] == pytest.approx(0.95)
    overflow = [a for a in report["alerts"] if a["rule"] == "hub_overflow"]
    assert [(a["subject"], a["level_max"]) for a in overflow] == [("ZTO-HZ01", "orange")]
    assert report["levels_worst"]["orange"] >= 1
    silent = {s["hub_id"] for s in report["silent_hubs"]}
    assert {"YTO-HZ01", "ZTO-NJ01"} <= silent  # silent overnight, and 08:30–09:05
    assert report["previous_day"]["arrivals_total"] == 5  # YTO's parcels at 23:59:30
    # the network-wide rules open incidents of their own (two of three hubs silent overnight)
    assert "network" in {i["scope"] for i in report["incidents"]}
    assert all(i["reports"][0]["kind"] == "first" for i in report["incidents"])
    assert sorted(m["hub_id"] for m in report["mitigations"]) == ["YTO-HZ01", "ZTO-HZ01"]
    assert [(w["kind_zh"], w["province"]) for w in report["warnings"]] == [("暴雪", "浙江")]


@pytest.mark.integration
def test_a_province_s_day(world: tuple[Service, dict[str, str]]) -> None:
    service, keys = world
    report = _report(service, keys["regulator"], "&province=江苏")
    assert report["province"] == "江苏"
    assert (report["arrivals_total"], report["departures_total"]) == (2_010, 800)
    assert [h["hub_id"] for h in report["hubs"]] == ["ZTO-NJ01"]
    assert (report["mitigations"], report["warnings"]) == ([], [])  # both are in 浙江
    assert report["peak_hour"] == "09:00"


@pytest.mark.integration
def test_a_carrier_reads_its_own_hubs_and_no_competitor_s_number(
    world: tuple[Service, dict[str, str]],
) -> None:
    service, keys = world
    zto = _report(service, keys["carrier:ZTO"])
    assert zto["carrier"] == "ZTO"
    assert (zto["arrivals_total"], zto["departures_total"]) == (6_010, 4_800)
    assert zto["backlog_at_end"] == 950 + 1_210
    assert {h["hub_id"] for h in zto["hubs"]} == {"ZTO-HZ01", "ZTO-NJ01"}
    assert [m["hub_id"] for m in zto["mitigations"]] == ["ZTO-HZ01"]
    assert len(zto["warnings"]) == 1  # warnings are public
    assert all(i["scope"] == "hub" for i in zto["incidents"])  # no network incident for a carrier
    assert all(a["subject"].startswith("ZTO-") for a in zto["alerts"])
    assert "YTO" not in json.dumps(zto)
    assert zto["previous_day"]["arrivals_total"] == 0  # the 10th's parcels were YTO's
    page = call(service, keys["carrier:ZTO"], "GET", f"{DAY}&format=html").text
    assert "YTO" not in page
    assert "（ZTO）" in page
    table = call(service, keys["carrier:ZTO"], "GET", f"{DAY}&format=csv").text
    assert "YTO" not in table
    assert not {"165", "280", "120"} & set(table.replace(",", " ").split())
    yto = _report(service, keys["carrier:YTO"])
    assert (yto["arrivals_total"], [h["hub_id"] for h in yto["hubs"]]) == (280, ["YTO-HZ01"])
    assert "ZTO" not in json.dumps(yto)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("query", "field"),
    [("?date=2026-11-31", "date"), ("?date=11/11/2026", "date"), ("", "date")],
)
def test_a_bad_date_is_a_422_naming_the_field(
    world: tuple[Service, dict[str, str]], query: str, field: str
) -> None:
    service, keys = world
    response = call(service, keys["regulator"], "GET", "/v1/reports/daily" + query)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", field]


@pytest.mark.integration
def test_an_unknown_province_is_a_422(world: tuple[Service, dict[str, str]]) -> None:
    service, keys = world
    response = call(service, keys["regulator"], "GET", DAY + "&province=火星")
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "province"]
    assert "火星" in error["msg"]


@pytest.mark.integration
def test_the_csv_is_the_hub_table(world: tuple[Service, dict[str, str]]) -> None:
    service, keys = world
    response = call(service, keys["regulator"], "GET", DAY + "&format=csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    table = {
        r["hub_id"]: (int(r["arrivals"]), int(r["departures"]), int(r["backlog_end"])) for r in rows
    }
    assert table == HUBS
    assert {r["province"] for r in rows} == {"浙江", "江苏"}


@pytest.mark.integration
def test_the_printable_page_in_chromium(world: tuple[Service, dict[str, str]]) -> None:
    service, keys = world
    page_html = httpx.get(
        service.url + DAY + "&format=html",
        headers={"Authorization": f"Bearer {keys['regulator']}"},
        timeout=30,
    )
    assert page_html.headers["content-type"].startswith("text/html")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 900, "height": 1400}, locale="zh-CN")
            page.set_content(page_html.text)
            heading = page.locator("h1")
            assert heading.inner_text() == "全国邮政快递业务量监测日报"
            kpis = page.locator(".kpi").inner_text()
            for number in ("6,290", "4,920", "2,325", "09:00"):
                assert number in kpis
            assert page.locator("svg.chart").count() == 2
            assert page.locator("svg.chart polyline").count() == 2  # 进港 and 出港
            body = page.locator("body").inner_text()
            for words in (
                "2026年11月11日",
                "峰值时段",
                "24时积压",
                "进港量较前一日增长",
                "加开班车",
                "暴雪橙色预警",
            ):
                assert words in body
            assert "ZTO-HZ01" in page.locator("table").first.inner_text()  # the alerts table
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "daily-report.png"), full_page=True)
        finally:
            browser.close()


def test_the_command_prints_the_stored_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    hour = datetime(2026, 11, 11, 1, 0, tzinfo=UTC)  # 09:00 Beijing time
    rows = pl.DataFrame(
        [
            {
                "hour_start": hour,
                "hub_id": hub,
                "carrier": hub.split("-")[0],
                "province": province,
                "storage_capacity": 1_000,
                "arrivals": arrivals,
                "departures": 10,
                "backlog_end": 5,
                "backlog_end_at": hour + timedelta(hours=1),
                "backlog_max": 7,
                "level_rank": 1,
                "silent_max_s": 0.0,
            }
            for hub, province, arrivals in (("ZTO-HZ01", "浙江", 1_234), ("YTO-NJ01", "江苏", 66))
        ],
        schema=HOUR_SCHEMA,
    )

    async def store() -> None:
        db = await open_database(url)
        async with db.sessionmaker.begin() as session:
            await upsert_hours(session, rows)
        await db.close()

    asyncio.run(store())
    monkeypatch.setenv("PEAKWATCH_DB_URL", url)
    assert main(["report", "daily", "--date", "2026-11-11"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["arrivals_total"], printed["peak_hour"]) == (1_300, "09:00")
    assert main(["report", "daily", "--date", "2026-11-11", "--province", "浙江"]) == 0
    assert json.loads(capsys.readouterr().out)["arrivals_total"] == 1_234
    assert main(["report", "daily", "--date", "2026-11-11", "--format", "html"]) == 0
    assert "<h1>全国邮政快递业务量监测日报</h1>" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        main(["report", "daily", "--date", "11.11"])
    assert refused.value.code == 2
    assert "--date: '11.11' is not a date as YYYY-MM-DD" in capsys.readouterr().err


def _replayed(batch_minutes: int, partitions: tuple[int, ...]) -> list[list[StepResult]]:
    """Runs of steps of an engine fed 130 minutes of two hubs in batches of ``batch_minutes``,
    holding ``partitions`` (hub A on 0, hub B on 1)."""
    engine = Engine(
        factories.registry(
            factories.hub("ZTO-A"), factories.hub("YTO-B", carrier="YTO", province="江苏")
        ),
        RiskConfig(evaluation_step_s=300),  # 5-minute steps: fewer to run, hours still close
    )
    rows = []
    for minute in range(130):
        rows.append(factories.event("ZTO-A", "arrival", 10, minute + 0.5))
        rows.append(factories.event("ZTO-A", "departure", 3, minute + 0.5))
        rows.append(
            factories.event("YTO-B", "arrival", 4, minute + 0.5, carrier="YTO", partition=1)
        )
    frame = factories.events(rows).filter(pl.col("partition").is_in(partitions))
    runs = []
    for first in range(0, 130, batch_minutes):
        minutes = pl.col("ts") < factories.at(first + batch_minutes)
        batch = frame.filter(minutes, pl.col("ts") >= factories.at(first))
        engine.ingest(
            batch.with_row_index("i").drop("index").rename({"i": "index"}), now=factories.at(999)
        )
        steps = engine.run_due_steps()
        if steps:
            runs.append(steps)
    return runs


async def _recorded(url: str, *replicas: list[list[StepResult]]) -> pl.DataFrame:
    db = await open_database(url)
    try:
        for runs in replicas:
            recorder = HourRecorder()
            for steps in runs:
                await recorder.record(steps, db)
        async with db.sessionmaker() as session:
            closed = factories.T0 + timedelta(hours=2)  # hours 12:00 and 13:00 UTC are closed
            return await hours_between(session, factories.T0, closed)
    finally:
        await db.close()


def test_a_replay_in_other_batches_and_two_replicas_record_the_same_hours(tmp_path: Path) -> None:
    one = asyncio.run(_recorded(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", _replayed(10, (0, 1))))
    assert one.select("hub_id", "arrivals", "departures").rows() == [
        ("YTO-B", 240, 0),
        ("ZTO-A", 600, 180),
        ("YTO-B", 240, 0),
        ("ZTO-A", 600, 180),
    ]
    assert one["backlog_end"].to_list() == [240, 420, 480, 840]
    replicas = asyncio.run(
        _recorded(
            f"sqlite+aiosqlite:///{tmp_path / 'b.db'}",
            _replayed(37, (0,)),
            _replayed(7, (1,)),
            _replayed(60, (0, 1)),  # and the whole feed once more on top
        )
    )
    assert_frame_equal(replicas, one)


def test_the_page_s_summary_reads_with_thousands_separators() -> None:
    from app.reports.model import DailyReport
    from app.reports.page import render_html

    hours = [
        {"hour": f"{h:02d}:00", "arrivals": 0, "departures": 0, "backlog": 0} for h in range(24)
    ]
    report = DailyReport.model_validate(
        {
            "date": "2026-11-11",
            "province": None,
            "carrier": None,
            "arrivals_total": 1_234_567,
            "departures_total": 1_000_000,
            "backlog_at_end": 234_567,
            "backlog_max": 300_000,
            "peak_hour": "09:00",
            "hourly": hours,
            "levels_worst": {"red": 2, "orange": 5},
            "alerts": [],
            "incidents": [],
            "mitigations": [],
            "warnings": [],
            "silent_hubs": [],
            "hubs": [],
            "closest_to_overflow": [],
            "previous_day": {
                "arrivals_total": 1_000,
                "departures_total": 900,
                "backlog_at_end": 10,
                "arrivals_change_pct": 123_356.7,
                "departures_change_pct": 111_011.1,
            },
        }
    )
    page = render_html(report)
    assert "全国邮政快递业务量监测日报" in page
    assert "当日进港 1,234,567 件，出港 1,000,000 件" in page
    assert "进港峰值时段 09:00–10:00" in page
    assert "进港量较前一日增长 123,356.7%" in page
    assert "日内达到红色预警的节点 2 个、橙色 5 个" in page
