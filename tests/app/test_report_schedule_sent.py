"""The daily report sent by itself through the running service: events of a hub posted across
the Beijing midnight of 11 November 2026 and past 01:00 of the 12th (the configured hour), and
the local webhook gets the 11th's digest once, with the day's totals and the report's link."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.alerts.notify.receiver import RobotReceiver
from tests.support.service import call, hub_line, make_service, wait_for

pytestmark = pytest.mark.integration

T0_MS = 1_794_326_400_000  # 2026-11-11 00:00 Beijing time
MINUTE_MS, DAY_MS = 60_000, 86_400_000
PUBLIC = "https://peakwatch.example.gov.cn"


def _alerting(receiver: RobotReceiver) -> str:
    return json.dumps(
        {
            "default_periods": {"pending_s": 0, "clear_s": 300},
            "receivers": [
                {
                    "type": "webhook",
                    "name": "regulator-hook",
                    "url": f"{receiver.url}/hook",
                    "secret": receiver.webhook_secret,
                }
            ],
            "daily_report": {"enabled": True, "hour": 1, "receivers": ["regulator-hook"]},
        }
    )


def _events() -> list[dict[str, Any]]:
    """23:30–23:59 of the 11th: 100 in and 40 out a minute; 00:00–01:09 of the 12th: 10 and 10."""

    def event(minute_ms: int, kind: str, parcels: int) -> dict[str, Any]:
        return {
            "event_id": f"ZTO-HZ01-{kind}-{minute_ms}",
            "carrier": "ZTO",
            "hub_id": "ZTO-HZ01",
            "ts": minute_ms + 30_000,
            "kind": kind,
            "parcels": parcels,
        }

    evening = [T0_MS + (23 * 60 + 30 + i) * MINUTE_MS for i in range(30)]
    night = [T0_MS + DAY_MS + i * MINUTE_MS for i in range(70)]
    return [
        *(event(m, "arrival", 100) for m in evening),
        *(event(m, "departure", 40) for m in evening),
        *(event(m, "arrival", 10) for m in night),
        *(event(m, "departure", 10) for m in night),
    ]


def _digests(receiver: RobotReceiver, day: str) -> list[dict[str, Any]]:
    documents = [r.json() for r in receiver.accepted("/hook")]
    return [d for d in documents if d.get("kind") == "daily_report" and d["date"] == day]


def test_the_day_s_report_reaches_the_receiver_once_after_the_hour(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    receiver = RobotReceiver().start()
    service = make_service(
        tmp_path,
        kafka_bootstrap,
        hub_line("ZTO-HZ01", "ZTO"),
        overrides={"PEAKWATCH_ALERTING": _alerting(receiver), "PEAKWATCH_PUBLIC_URL": PUBLIC},
    )
    try:
        service.start()
        events = _events()
        posted = call(service, service.admin_key, "POST", "/v1/events", {"events": events})
        assert posted.json()["accepted"] == len(events), posted.text
        digest = wait_for(
            lambda: _digests(receiver, "2026-11-11"),
            timeout_s=90,
            what="the 11th's daily report at the webhook",
            describe=lambda: [r.body[:300] for r in receiver.received],
        )[0]
        assert digest["title"] == "一日一报 · 全国 · 2026-11-11"
        totals = (digest["arrivals_total"], digest["departures_total"], digest["backlog_at_end"])
        assert totals == (3_000, 1_200, 1_800)
        assert digest["peak_hour"] == "23:00"
        assert "进港 3,000 件 · 出港 1,200 件" in digest["text"]
        assert "24时积压 1,800 件" in digest["text"]
        assert digest["link"] == f"{PUBLIC}/v1/reports/daily?date=2026-11-11&format=html"
        page = call(service, service.admin_key, "GET", digest["link"].removeprefix(PUBLIC))
        assert "全国邮政快递业务量监测日报" in page.text  # the link opens the printable report
        time.sleep(3)  # more steps (event time now runs with the wall clock): nothing again
        assert len(_digests(receiver, "2026-11-11")) == 1
    finally:
        service.kill()
        receiver.stop()
