"""The alert routes, on a small app built here: who may read, acknowledge and silence; filters and
pages; the acknowledge link; the server-sent event stream; the OpenAPI description."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from alerts.config import AlertingConfig
from alerts.service import AlertService
from app.api.deps import Principal
from app.api.routes import alerts as alert_routes
from storage.db import open_database
from tests.alerts.factories import HUB_VALUES, T0, frame, row

KEYS = {
    "k-oncall": Principal(key_id="oc1", role="oncall"),
    "k-regulator": Principal(key_id="rg1", role="regulator"),
    "k-zto": Principal(key_id="zt1", role="carrier", carrier="ZTO"),
}


class InTestKeys:
    """KeyLookup: the three keys above."""

    async def lookup(self, raw_key: str) -> Principal | None:
        return KEYS.get(raw_key)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[AlertService]:
    db = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'alerts.db'}")
    config = AlertingConfig.from_mapping(
        {"default_periods": {"pending_s": 0, "clear_s": 0}, "ack_link_secret": "link-secret"}
    )
    service = await AlertService.open(db=db, config=config, public_url="http://testserver")
    rows = [
        row("ZTO-1", "red"),
        row("YTO-1", "orange", carrier="YTO", province="上海"),
        row("ZTO-2", "blue"),
    ]
    await service.process(frame(*rows), now=T0, owned_hubs=None, evaluates_network=True)
    await service.process(
        frame(*rows[:2]), now=T0 + timedelta(minutes=5), owned_hubs=None, evaluates_network=True
    )
    try:
        yield service
    finally:
        await service.close()
        await db.close()


@pytest.fixture
async def client(service: AlertService) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(alert_routes.router)
    app.state.alerts = service
    app.state.keys = InTestKeys()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


async def alert_id(client: httpx.AsyncClient, subject: str) -> str:
    response = await client.get(
        "/v1/alerts", params={"subject": subject}, headers=auth("k-regulator")
    )
    return str(response.json()["alerts"][0]["id"])


async def test_reading_needs_a_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/alerts")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_filters_and_the_alert_shape(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/v1/alerts",
        params={"state": "firing", "level": ["red", "orange"]},
        headers=auth("k-regulator"),
    )
    assert response.status_code == 200
    alerts = response.json()["alerts"]
    assert sorted(a["subject"] for a in alerts) == ["YTO-1", "ZTO-1"]
    red = next(a for a in alerts if a["subject"] == "ZTO-1")
    assert red["labels"] == {"hub_id": "ZTO-1", "carrier": "ZTO", "province": "浙江"}
    assert red["started_at"] == "2025-11-11T12:00:00Z"
    assert red["resolved_at"] is None
    assert red["acked_by"] is None
    assert red["values"] == HUB_VALUES
    resolved = await client.get(
        "/v1/alerts", params={"state": "resolved"}, headers=auth("k-regulator")
    )
    assert [a["subject"] for a in resolved.json()["alerts"]] == ["ZTO-2"]
    assert resolved.json()["alerts"][0]["resolved_at"] == "2025-11-11T12:05:00Z"


async def test_pages(client: httpx.AsyncClient) -> None:
    first = (
        await client.get("/v1/alerts", params={"limit": 2}, headers=auth("k-regulator"))
    ).json()
    second = (
        await client.get(
            "/v1/alerts",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=auth("k-regulator"),
        )
    ).json()
    assert len(first["alerts"]) == 2
    assert len(second["alerts"]) == 1
    assert second["next_cursor"] is None
    bad = await client.get("/v1/alerts", params={"cursor": "garbage!"}, headers=auth("k-regulator"))
    assert bad.status_code == 400


async def test_a_carrier_sees_only_its_own(client: httpx.AsyncClient) -> None:
    own = (await client.get("/v1/alerts", headers=auth("k-zto"))).json()["alerts"]
    assert sorted(a["subject"] for a in own) == ["ZTO-1", "ZTO-2"]
    assert (
        await client.get("/v1/alerts", params={"carrier": "YTO"}, headers=auth("k-zto"))
    ).status_code == 403
    competitor = await alert_id(client, "YTO-1")
    assert (await client.get(f"/v1/alerts/{competitor}", headers=auth("k-zto"))).status_code == 404
    assert (
        await client.get(f"/v1/alerts/{competitor}/history", headers=auth("k-zto"))
    ).status_code == 404


async def test_ack_is_for_on_call(client: httpx.AsyncClient) -> None:
    target = await alert_id(client, "ZTO-1")
    assert (
        await client.post(f"/v1/alerts/{target}/ack", headers=auth("k-regulator"))
    ).status_code == 403
    response = await client.post(f"/v1/alerts/{target}/ack", headers=auth("k-oncall"))
    assert response.status_code == 200
    assert response.json()["acked_by"] == "oncall:oc1"
    history = (await client.get(f"/v1/alerts/{target}/history", headers=auth("k-regulator"))).json()
    assert [(h["kind"], h["actor"]) for h in history] == [("firing", None), ("acked", "oncall:oc1")]
    resolved = await alert_id(client, "ZTO-2")
    assert (
        await client.post(f"/v1/alerts/{resolved}/ack", headers=auth("k-oncall"))
    ).status_code == 409
    assert (await client.post("/v1/alerts/nope/ack", headers=auth("k-oncall"))).status_code == 404


async def test_silences(client: httpx.AsyncClient) -> None:
    body: dict[str, Any] = {
        "matchers": [{"name": "province", "value": "浙江|江苏", "is_regex": True}],
        "duration_s": 3600,
        "comment": "检修",
    }
    assert (await client.post("/v1/silences", json=body, headers=auth("k-zto"))).status_code == 403
    created = await client.post("/v1/silences", json=body, headers=auth("k-oncall"))
    assert created.status_code == 201
    silence = created.json()
    assert silence["created_by"] == "oncall:oc1"
    starts = datetime.fromisoformat(silence["starts_at"])
    assert datetime.fromisoformat(silence["ends_at"]) - starts == timedelta(hours=1)
    listed = (await client.get("/v1/silences", headers=auth("k-regulator"))).json()
    assert [s["id"] for s in listed] == [silence["id"]]
    assert (
        await client.delete(f"/v1/silences/{silence['id']}", headers=auth("k-oncall"))
    ).status_code == 204
    assert (await client.get("/v1/silences", headers=auth("k-oncall"))).json() == []
    assert (await client.delete("/v1/silences/nope", headers=auth("k-oncall"))).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"matchers": [], "duration_s": 60},
        {"matchers": [{"name": "colour", "value": "red"}], "duration_s": 60},
        {"matchers": [{"name": "rule", "value": "(", "is_regex": True}], "duration_s": 60},
        {"matchers": [{"name": "rule", "value": "x"}]},
        {
            "matchers": [{"name": "rule", "value": "x"}],
            "duration_s": 60,
            "ends_at": "2030-01-01T00:00:00Z",
        },
        {"matchers": [{"name": "rule", "value": "x"}], "ends_at": "2020-01-01T00:00:00Z"},
    ],
)
async def test_bad_silences_are_422(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post("/v1/silences", json=body, headers=auth("k-oncall"))
    assert response.status_code == 422


async def test_the_ack_link_works_without_a_key(
    client: httpx.AsyncClient, service: AlertService
) -> None:
    target = await alert_id(client, "YTO-1")
    link = service.links.ack(await service.get(target))  # type: ignore[arg-type]
    path = link.removeprefix("http://testserver")
    page = await client.get(path)
    assert page.status_code == 200
    assert '<form method="post">' in page.text
    token = link.partition("token=")[2]
    assert (
        await client.get(f"/v1/alerts/{target}/ack-link", params={"token": "0" * 32})
    ).status_code == 403
    done = await client.post(
        f"/v1/alerts/{target}/ack-link",
        content=f"token={token}&name=张三",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200
    assert (await service.get(target)).acked_by == "link:张三"  # type: ignore[union-attr]


async def test_the_stream_sends_changes_in_order(
    client: httpx.AsyncClient, service: AlertService
) -> None:
    async def read() -> httpx.Response:
        return await client.get(
            "/v1/alerts/stream", headers={**auth("k-zto"), "Last-Event-ID": "0"}
        )

    reading = asyncio.create_task(read())
    await asyncio.sleep(0.3)
    target = await alert_id(client, "ZTO-1")
    await client.post(f"/v1/alerts/{target}/ack", headers=auth("k-oncall"))
    await asyncio.sleep(0.3)
    await service.close()  # ends the stream, so the in-process transport hands back the body
    response = await asyncio.wait_for(reading, timeout=10)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [e for e in response.text.split("\n\n") if e.startswith("event:")]
    kinds = [e.splitlines()[0].removeprefix("event: ") for e in events]
    assert kinds == ["firing", "firing", "resolved", "acked"]  # ZTO's only: not YTO-1
    ids = [
        int(line.removeprefix("id: "))
        for e in events
        for line in e.splitlines()
        if line.startswith("id: ")
    ]
    assert ids == sorted(ids)


def test_openapi_describes_every_route_with_examples() -> None:
    app = FastAPI()
    app.include_router(alert_routes.router)
    spec = app.openapi()
    paths = spec["paths"]
    assert {
        "/v1/alerts",
        "/v1/alerts/stream",
        "/v1/alerts/{alert_id}",
        "/v1/alerts/{alert_id}/ack",
        "/v1/silences",
        "/v1/silences/{silence_id}",
    } <= set(paths)
    schemas = spec["components"]["schemas"]
    for name in ("AlertOut", "AlertPageOut", "AlertChangeOut", "SilenceIn"):
        assert schemas[name].get("examples"), name
    stream = paths["/v1/alerts/stream"]["get"]["responses"]["200"]["content"]["text/event-stream"]
    assert stream["itemSchema"]["properties"]["data"]["contentSchema"] == {
        "$ref": "#/components/schemas/AlertChangeOut"
    }
