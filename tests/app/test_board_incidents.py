"""The board's incidents panel in a real browser: open incidents with the reports they wait for,
overdue reports first and marked, whom an overdue report went to, in Chinese and in English.

The real board files are served by the real board route beside a fake ``GET /v1/incidents``
whose answer is built from the route's own response model, so a renamed field breaks this test.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import BrowserContext, expect

from app.api.routes import board
from app.api.routes.incidents import IncidentList
from app.local_kafka import free_port
from tests.app.test_board import _screenshot, browser, context

__all__ = ["browser", "context"]
pytestmark = pytest.mark.integration

KEY = "board-incidents-key"
NOW = datetime.now(UTC).replace(microsecond=0)


def _report(kind: str, due_at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "id": int(due_at.timestamp()) % 100_000,
        "kind": kind,
        "at": due_at - timedelta(hours=1),
        "due_at": due_at,
        "overdue": due_at <= NOW,
        "level": "red",
        "draft_text": "【突发事件信息首报】……",
        "draft_text_en": "First report: …",
        "draft_fields": {"measures": []},
        "text": None,
        "fields": None,
        "submitted_at": None,
        "submitted_by": None,
        "escalated_at": None,
        "escalated_to": None,
        **extra,
    }


def _incident(
    incident_id: str, rule: str, scope: str, subject: str, level: str, **extra: Any
) -> dict[str, Any]:
    return {
        "id": incident_id,
        "alert_id": incident_id,
        "opened_at": NOW - timedelta(hours=2),
        "scope": scope,
        "subject": subject,
        "rule": rule,
        "level": level,
        "state": "open",
        "carrier": "ZTO" if scope == "hub" else None,
        "province": "浙江",
        "hub_id": subject if scope == "hub" else None,
        "resolved_at": None,
        **extra,
    }


INCIDENTS = IncidentList.model_validate(
    {
        "incidents": [
            _incident(
                "inc-province",
                "province_congestion",
                "province",
                "浙江",
                "orange",
                reports=[_report("first", NOW + timedelta(minutes=40))],
            ),
            _incident(
                "inc-hub",
                "hub_overflow",
                "hub",
                "ZTO-HZ01",
                "red",
                reports=[
                    _report(
                        "first",
                        NOW - timedelta(minutes=30),
                        escalated_at=NOW - timedelta(minutes=29),
                        escalated_to={"person": "李强", "role": "leader"},
                    )
                ],
            ),
        ]
    }
).model_dump(mode="json")


@pytest.fixture(scope="module")
def incidents_board() -> Iterator[str]:
    """The board route and a fake ``/v1/incidents``, served from uvicorn in a thread."""
    api = FastAPI()
    api.include_router(board.router)

    @api.get("/v1/incidents")
    async def incidents() -> Any:
        return INCIDENTS

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="incidents-board", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the fake board server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_panel_shows_open_incidents_overdue_reports_first(
    incidents_board: str, context: BrowserContext
) -> None:
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{incidents_board}/?key={KEY}")

    items = page.locator("#incident-list li")
    expect(items).to_have_count(2)
    expect(items.first).to_have_attribute("data-incident-id", "inc-hub")  # overdue: on top
    expect(items.first).to_contain_text("首报待报")
    # 30 min when the module was imported; more when the suite reaches this test later
    expect(items.first).to_contain_text(re.compile(r"已逾期 (3\d|[4-9]\d) 分钟"))
    expect(items.first).to_contain_text("已上报带班领导 李强")
    expect(items.nth(1)).to_contain_text("省内拥堵")
    expect(items.nth(1)).not_to_contain_text("已逾期")
    expect(page.locator("#incident-counts")).to_contain_text("未结 2")
    expect(page.locator("#incident-counts")).to_contain_text("逾期 1")
    _screenshot(page, "board-incidents.png")

    page.locator("#lang-toggle").click()
    expect(page.locator("#incidents-title")).to_have_text("Incident reports")
    expect(items.first).to_contain_text(re.compile(r"overdue by (3\d|[4-9]\d) min"))
    expect(items.first).to_contain_text("escalated to leader 李强")
    assert problems == []
