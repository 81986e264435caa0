"""The live board in a real browser (Debian's Chromium driven by Playwright).

The fast tests serve the real ``app/board`` files through the real board route from a small app
that answers the five API endpoints with fixed, realistic data (and an alert stream that brings a
new red alert after a second), so they need no Kafka. The last test reads the real service fed by
the Double-11 simulator (the ``fed_service`` fixture).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect, sync_playwright

from alerts.schemas import AlertPageOut
from app.api.routes import board
from app.local_kafka import free_port
from tests.app import board_fakes
from tests.support.service import Service

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
KEY = "board-test-key"
WALL_SCREEN: ViewportSize = {"width": 1920, "height": 1080}

LEVEL_RGB = {
    "unknown": "rgb(140, 140, 140)",
    "none": "rgb(82, 196, 26)",
    "blue": "rgb(22, 119, 255)",
    "yellow": "rgb(250, 219, 20)",
    "orange": "rgb(250, 140, 22)",
    "red": "rgb(245, 34, 45)",
}

HUB_MODELS = board_fakes.make_hubs()
HUBS = [hub.model_dump(mode="json") for hub in HUB_MODELS]
_BY_ID = {hub.hub_id: hub for hub in HUB_MODELS}
NETWORK = board_fakes.network_status(HUB_MODELS, level="orange").model_dump(mode="json")
PROVINCES = [row.model_dump(mode="json") for row in board_fakes.province_statuses(HUB_MODELS)]
FIRING = [
    board_fakes.alert(
        "a-1",
        _BY_ID["STO-JH01"],
        "orange",
        "金华申通转运中心利用率 91%，预计 40 分钟后爆仓",
        "STO Jinhua at 91 %, overflow in 40 min",
    ),
    board_fakes.alert(
        "a-2",
        _BY_ID["ZTO-HZ01"],
        "red",
        "杭州中通转运中心已爆仓，利用率 104%",
        "ZTO Hangzhou overflowing at 104 %",
    ),
]
NEW_RED = board_fakes.alert(
    "a-3",
    _BY_ID["YUNDA-YW01"],
    "red",
    "义乌韵达转运中心利用率 97%，预计 8 分钟后爆仓",
    "Yunda Yiwu at 97 %, overflow in 8 min",
)
PENDING = board_fakes.alert(
    "a-4", _BY_ID["STO-LY01"], "yellow", "临沂申通转运中心利用率 74%", "STO Linyi at 74 %"
).model_copy(update={"state": "pending", "fired_at": None})
change = board_fakes.change


def _authorised(request: Request) -> bool:
    return request.headers.get("authorization") == f"Bearer {KEY}"


def _denied() -> JSONResponse:
    return JSONResponse({"detail": "unknown or revoked api key"}, status_code=401)


def make_fake_api() -> FastAPI:
    """The real board route plus fixed answers for the endpoints the board reads."""
    api = FastAPI()
    api.include_router(board.router)
    firing_served = asyncio.Event()  # the stream's news comes after the board's first poll
    api.state.stream_opened_at = []  # monotonic times the board opened the stream
    api.state.drop_streams = False  # True: end every stream at once, like a restarting service

    @api.get("/v1/network")
    async def network(request: Request) -> Any:
        return NETWORK if _authorised(request) else _denied()

    @api.get("/v1/provinces")
    async def provinces(request: Request) -> Any:
        return PROVINCES if _authorised(request) else _denied()

    @api.get("/v1/hubs")
    async def hubs(request: Request, limit: int = 100, offset: int = 0) -> Any:
        if not _authorised(request):
            return _denied()
        return board_fakes.hub_page(HUB_MODELS, limit, offset)

    @api.get("/v1/alerts")
    async def alerts(request: Request, state: str = "all", limit: int = 100) -> Any:
        if not _authorised(request):
            return _denied()
        firing_served.set()
        page = AlertPageOut(alerts=FIRING if state in ("firing", "all") else [], next_cursor=None)
        return page.model_dump(mode="json")

    @api.get("/v1/alerts/stream")
    async def stream(request: Request) -> Any:
        if not _authorised(request):
            return _denied()

        api.state.stream_opened_at.append(time.monotonic())
        drop = api.state.drop_streams

        async def events() -> AsyncIterator[str]:
            yield ": connected\n\n"
            if drop:
                return
            await firing_served.wait()
            await asyncio.sleep(1.0)
            # a pending alert is not shown; the firing one comes split mid-line, as a proxy may
            yield f"event: pending\nid: 1\ndata: {change(1, 'pending', PENDING)}\n\n"
            message = change(2, "firing", NEW_RED)
            yield f"event: firing\r\nid: 2\r\ndata: {message[:40]}"
            await asyncio.sleep(0.05)
            yield f"{message[40:]}\r\n\r\n"
            while not await request.is_disconnected():
                yield ": keep-alive\n\n"
                await asyncio.sleep(0.5)

        return StreamingResponse(events(), media_type="text/event-stream")

    return api


@dataclass
class FakeBoard:
    """The fake API on 127.0.0.1; ``url`` is where the board is."""

    url: str
    api: FastAPI


@pytest.fixture(scope="module")
def fake_board() -> Iterator[FakeBoard]:
    """Serve the board and the fake API from uvicorn in a thread for the module's tests."""
    port = free_port()
    api = make_fake_api()
    config = uvicorn.Config(
        api,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fake-board", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the fake board server did not start")
        time.sleep(0.05)
    try:
        yield FakeBoard(url=f"http://127.0.0.1:{port}", api=api)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; closed after the module."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile (empty localStorage) on a 1080p wall screen."""
    made = browser.new_context(viewport=WALL_SCREEN, locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        yield made
    finally:
        made.close()


def _screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


def _circle_fills(page: Page) -> dict[str, str]:
    fills: dict[str, str] = page.eval_on_selector_all(
        "svg circle",
        "cs => Object.fromEntries(cs.map(c => [c.dataset.hubId, getComputedStyle(c).fill]))",
    )
    return fills


def test_board_shows_hubs_by_level_and_a_new_alert_from_the_stream(
    fake_board: FakeBoard, context: BrowserContext
) -> None:
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{fake_board.url}/?key={KEY}")

    # the key leaves the address bar and stays in the browser
    expect(page).to_have_url(f"{fake_board.url}/")
    assert page.evaluate("localStorage.getItem('peakwatch.board.key')") == KEY

    # one point per hub, coloured by its level
    expect(page.locator("svg circle")).to_have_count(len(HUBS))
    fills = _circle_fills(page)
    assert fills == {hub["hub_id"]: LEVEL_RGB[hub["level"]] for hub in HUBS}

    # the banner: network level, national flows, hubs per level
    expect(page.locator("#network-level-name")).to_have_text("橙色(II级)")
    expect(page.locator("#kpi-arrivals")).to_have_text("38.5万")  # 104 reporting × 3,700/min
    expect(page.locator("#kpi-watermark")).to_have_text("11-11 14:05:00")
    expect(page.locator('.level-count[data-level="red"] .n')).to_have_text("2")

    # provinces worst first; the hubs nearest to overflow, the full one first
    expect(page.locator("#province-tiles .ptile").first).to_have_attribute("data-province", "浙江")
    nearest = page.locator("#nearest-list li")
    expect(nearest.first).to_contain_text("中通杭州转运中心")
    expect(nearest.first).to_contain_text("已爆仓")
    expect(nearest.nth(1)).to_contain_text("韵达义乌转运中心")
    expect(nearest.nth(1)).to_contain_text("8 分钟")
    expect(nearest.nth(1)).to_contain_text("97%")

    # the two firing alerts, then the red one the stream brings a second later, on top;
    # the pending one it also brings is not an alert for the duty room yet
    feed = page.locator("#alert-feed li")
    expect(feed).to_have_count(2)
    expect(feed).to_have_count(3, timeout=30_000)  # a loaded CI machine is slow to stream
    expect(feed.first).to_have_attribute("data-alert-id", "a-3")
    expect(feed.first).to_contain_text("义乌韵达转运中心利用率 97%")
    expect(feed.first).to_contain_text("新")
    expect(page.locator("#alert-feed li[data-alert-id='a-4']")).to_have_count(0)  # still pending
    expect(page.locator("#link-status")).to_have_attribute("data-state", "live")

    shot = _screenshot(page, "board.png")
    assert shot.stat().st_size > 50_000

    # offline: nothing but this origin was asked for
    assert requested
    assert all(url.startswith(fake_board.url) for url in requested), requested
    assert problems == []


def test_language_toggle_switches_text_and_is_remembered(
    fake_board: FakeBoard, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto(f"{fake_board.url}/?key={KEY}")
    expect(page.locator("#alerts-title")).to_have_text("实时告警")
    expect(page.locator("svg circle")).to_have_count(len(HUBS))

    page.get_by_role("button", name="EN").click()

    expect(page.locator("#alerts-title")).to_have_text("Live alerts")
    expect(page.locator("#title")).to_have_text("Double-11 Parcel Network Watch")
    expect(page.locator("#network-level-name")).to_have_text("Orange (II)")
    expect(page.locator("#province-tiles .ptile").first.locator(".pname")).to_have_text("Zhejiang")
    expect(page.locator("#alert-feed")).to_contain_text("ZTO Hangzhou overflowing at 104 %")
    assert page.evaluate("document.documentElement.lang") == "en"
    _screenshot(page, "board-en.png")

    page.reload()
    expect(page.locator("#alerts-title")).to_have_text("Live alerts")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("#alerts-title")).to_have_text("实时告警")


def test_without_a_key_the_board_asks_for_one(
    fake_board: FakeBoard, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto(f"{fake_board.url}/")
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("svg circle")).to_have_count(0)

    page.locator("#key-input").fill("not-a-key")
    page.locator("#key-form button").click()
    expect(page.locator("#key-error")).to_be_visible()

    page.locator("#key-input").fill(KEY)
    page.locator("#key-form button").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("svg circle")).to_have_count(len(HUBS))
    assert page.evaluate("localStorage.getItem('peakwatch.board.key')") == KEY


def test_alert_stream_reconnects_with_growing_back_off(
    fake_board: FakeBoard, context: BrowserContext
) -> None:
    opened: list[float] = fake_board.api.state.stream_opened_at
    opened.clear()
    fake_board.api.state.drop_streams = True
    page = context.new_page()
    try:
        page.goto(f"{fake_board.url}/?key={KEY}")
        expect(page.locator("#link-status")).not_to_have_attribute("data-state", "live")
        deadline = time.monotonic() + 15
        while len(opened) < 3 and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert len(opened) >= 3, opened
        first_wait, second_wait = opened[1] - opened[0], opened[2] - opened[1]
        assert 0.7 < first_wait < 2.5
        assert second_wait > first_wait * 1.3
    finally:
        fake_board.api.state.drop_streams = False
    # the service is back: the board says so without a reload
    expect(page.locator("#link-status")).to_have_attribute("data-state", "live", timeout=10_000)
    expect(page.locator("#alert-feed li[data-alert-id='a-3']")).to_be_visible(timeout=10_000)


def test_event_stream_parser_and_payload_shapes(
    fake_board: FakeBoard, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto(f"{fake_board.url}/board/api.js")
    result = page.evaluate(
        r"""async () => {
            const { EventStreamParser, alertOf } = await import("/board/api.js");
            const events = [];
            const parser = new EventStreamParser((e) => events.push(e));
            for (const chunk of [
                ": comment\r\n\r\n", "event: alert\r", "\nid: 7\ndata: {\"a\":",
                "1}\r\ndata: 2\r\n", "\r\n", "data:no-space\n\ndata: lone-cr\r\r", ": next\n",
            ]) parser.push(chunk);
            return {
                events,
                change: alertOf(JSON.parse(CHANGE)).id,
                bare: alertOf({ id: "y", level: "red" }),
                heartbeat: alertOf({ kind: "heartbeat" }),
            };
        }""".replace("CHANGE", json.dumps(change(5, "firing", NEW_RED)))
    )
    assert result["events"] == [
        {"event": "alert", "data": '{"a":1}\n2', "id": "7"},
        {"event": "message", "data": "no-space", "id": None},
        {"event": "message", "data": "lone-cr", "id": None},
    ]
    assert result["change"] == "a-3"  # an AlertChangeOut carries its alert
    assert result["bare"] is None  # a shape the API never sends is not guessed at
    assert result["heartbeat"] is None


def test_board_page_forbids_anything_from_elsewhere(fake_board: FakeBoard) -> None:
    response = httpx.get(fake_board.url + "/")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert response.headers["referrer-policy"] == "no-referrer"
    script = httpx.get(fake_board.url + "/board/board.js")
    assert script.headers["content-type"].split(";")[0] in (
        "text/javascript",
        "application/javascript",
    )


def test_board_against_the_service_fed_by_the_simulator(
    fed_service: Service, context: BrowserContext
) -> None:
    with fed_service.client() as api:
        total = api.get("/v1/hubs", params={"limit": 5000}).raise_for_status().json()["total"]
        body = api.get("/v1/alerts", params={"state": "firing"}).raise_for_status().json()
    firing = AlertPageOut.model_validate(body).alerts
    assert total > 0
    assert firing, "the fixture promises firing alerts"

    page = context.new_page()
    page.goto(f"{fed_service.url}/?key={fed_service.admin_key}")

    # every registered hub is on the map, and the alerts the API lists are on the feed
    expect(page.locator("svg circle")).to_have_count(total, timeout=20_000)
    expect(page.locator(f"#alert-feed li[data-alert-id='{firing[0].id}']")).to_be_visible(
        timeout=20_000
    )
    expect(page.locator("#link-status")).to_have_attribute("data-state", "live", timeout=10_000)
    expect(page.locator("#kpi-watermark")).not_to_have_text("尚无数据")
    expect(page.locator("#province-tiles .ptile").first).to_be_visible()
    _screenshot(page, "board-live.png")
