"""The simulator's alert count follows the real alert API's pages: more than one page of firing
alerts (pages of 100) is counted whole, and shows on the progress line."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from alerts.config import AlertingConfig
from alerts.service import AlertService
from app.api.deps import Principal
from app.api.routes import alerts as alert_routes
from simulator.simulation import generate
from simulator.sinks import NullSink
from simulator.stream import ALERT_PAGE_SIZE, AlertPoller, ProgressLine, stream
from storage.db import open_database
from tests.alerts.factories import T0, frame, row
from tests.simulator.test_stream import FakeClock

FIRING = 2 * ALERT_PAGE_SIZE + 30  # three pages


class OneKey:
    """KeyLookup: one regulator key."""

    async def lookup(self, raw_key: str) -> Principal | None:
        return Principal(key_id="rg1", role="regulator") if raw_key == "k" else None


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The real alert routes over a real alert service holding ``FIRING`` firing alerts."""
    db = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'alerts.db'}")
    config = AlertingConfig.from_mapping({"default_periods": {"pending_s": 0, "clear_s": 0}})
    service = await AlertService.open(db=db, config=config, public_url="http://testserver")
    rows = [row(f"ZTO-{n:03d}", "orange") for n in range(FIRING)]
    for minute in (0, 5):  # pending, then firing
        await service.process(
            frame(*rows),
            now=T0 + timedelta(minutes=minute),
            owned_hubs=None,
            evaluates_network=True,
        )
    app = FastAPI()
    app.include_router(alert_routes.router)
    app.state.alerts = service
    app.state.keys = OneKey()
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await service.close()
        await db.close()


async def test_every_page_of_firing_alerts_is_counted(api: httpx.AsyncClient) -> None:
    first = (await api.get("/v1/alerts", params={"state": "firing"}, headers=_auth())).json()
    assert len(first["alerts"]) == ALERT_PAGE_SIZE  # the API does page
    assert first["next_cursor"] is not None

    poller = AlertPoller("http://testserver", "k", api)
    assert await poller.poll_once() == FIRING


async def test_a_refused_key_keeps_the_last_count(api: httpx.AsyncClient) -> None:
    poller = AlertPoller("http://testserver", "k", api)
    await poller.poll_once()
    refused = AlertPoller("http://testserver", "wrong", api)
    assert await refused.poll_once() is None  # never counted: nothing to show
    assert poller.firing == FIRING


async def test_progress_shows_every_firing_alert(api: httpx.AsyncClient) -> None:
    poller = AlertPoller("http://testserver", "k", api)
    await poller.poll_once()
    out = io.StringIO()
    clock = FakeClock()
    simulation = generate("baseline", hubs=40, seed=1, duration=timedelta(minutes=10))
    await stream(
        simulation,
        NullSink(),
        speed=6,
        progress=ProgressLine("baseline", out, poller),
        clock=clock,
        sleep=clock.sleep,
    )
    last = out.getvalue().splitlines()[-1]
    assert "baseline | event time 2026-10-14 20:09 +08:00" in last
    assert "events/s" in last
    assert last.endswith(f"alerts firing {FIRING}")


def _auth() -> dict[str, str]:
    return {"Authorization": "Bearer k"}
