"""Hostile and careless requests: limits before work, per-carrier rates, tenant safety, the clock.

Most tests run the real routes on a small in-process app with a runtime stand-in (no Kafka); the
last one posts the bodies of issue 13 to a real service and watches /healthz meanwhile.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from alerts.errors import AckLinkError
from app.api.deps import Principal
from app.api.routes import alerts as alert_routes
from app.api.routes import events as event_routes
from app.ratelimit import RateLimiter
from app.settings import Settings
from core.events import HubEvent
from tests.support.service import Service, hub_line

KEYS = {
    "k-zto": Principal(key_id="zt1", role="carrier", carrier="ZTO"),
    "k-zto-2": Principal(key_id="zt2", role="carrier", carrier="ZTO"),
    "k-yto": Principal(key_id="yt1", role="carrier", carrier="YTO"),
    "k-admin": Principal(key_id="ad1", role="admin"),
}
OWNERS = {"ZTO-HZ01": "ZTO", "ZTO-NB01": "ZTO", "YTO-SH01": "YTO"}
NDJSON = "application/x-ndjson"


class InTestKeys:
    """KeyLookup: the keys above."""

    async def lookup(self, raw_key: str) -> Principal | None:
        return KEYS.get(raw_key)


class InTestRuntime:
    """What the events route uses of ``app.runtime.Runtime``, with Kafka replaced by a list."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rate_limiter = RateLimiter(settings.rate_limits, settings.default_rate_per_s)
        self.produced: list[HubEvent] = []

    def hub_owners(self) -> dict[str, str]:
        return OWNERS

    async def produce_events(self, events: list[HubEvent]) -> None:
        self.produced.extend(events)

    def count_ingest(self, principal: Principal, *, accepted: int, rejected: int) -> None:
        pass


def now_ms() -> int:
    return int(time.time() * 1000)


def event(i: int, hub: str = "ZTO-HZ01", carrier: str = "ZTO", **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"{hub}-{i}",
        "carrier": carrier,
        "hub_id": hub,
        "ts": now_ms() - 60_000,
        "kind": "arrival",
        "parcels": 10,
        **extra,
    }


def events_app(**settings: Any) -> FastAPI:
    app = FastAPI()
    app.include_router(event_routes.router)
    app.state.runtime = InTestRuntime(Settings(**settings))
    app.state.keys = InTestKeys()
    return app


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(events_app()) as client:
        yield client


async def post(
    client: httpx.AsyncClient, key: str, body: bytes | dict[str, Any], content_type: str = ""
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    if isinstance(body, dict):
        return await client.post("/v1/events", json=body, headers=headers)
    headers["Content-Type"] = content_type or "application/json"
    return await client.post("/v1/events", content=body, headers=headers)


def reasons(response: httpx.Response) -> list[tuple[int, str, str]]:
    assert response.status_code == 202, response.text
    return [(r["index"], r["field"], r["reason"]) for r in response.json()["rejected"]]


# -- limits before work ----------------------------------------------------------------------


async def test_a_body_of_newlines_answers_at_once(client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    response = await post(client, "k-zto", b"\n" * (4 * 1024 * 1024), NDJSON)
    assert time.monotonic() - started < 10  # was 48 s and 2.8 GB for its million rejections
    assert response.status_code == 202
    assert response.json() == {"accepted": 0, "rejected": []}


async def test_too_many_lines_are_413_naming_the_limit() -> None:
    async with client_for(events_app(max_batch_events=10)) as client:
        started = time.monotonic()
        response = await post(client, "k-zto", b"x\n" * 1_000_000, NDJSON)
    assert time.monotonic() - started < 10
    assert response.status_code == 413
    assert response.json()["detail"].startswith("more than 10 events")
    assert "max_batch_events" in response.json()["detail"]


async def test_a_deeply_nested_body_is_400_naming_the_rule(client: httpx.AsyncClient) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    response = await post(client, "k-zto", b'{"events": [' + deep + b"]}")
    assert response.status_code == 400
    assert "at most 32 levels deep" in response.json()["detail"]
    lines = json.dumps(event(1)).encode() + b"\n" + deep
    assert reasons(await post(client, "k-zto", lines, NDJSON)) == [
        (1, "(item)", "must nest objects and arrays at most 32 levels deep")
    ]


async def test_a_huge_number_is_a_bad_item_not_a_500(client: httpx.AsyncClient) -> None:
    line = b'{"event_id": "x", "parcels": ' + b"9" * 5000 + b"}"
    [(index, field, reason)] = reasons(await post(client, "k-zto", line, NDJSON))
    assert (index, field) == (0, "(item)")
    assert reason.startswith("not valid JSON")


# -- the clock -------------------------------------------------------------------------------


async def test_events_the_consumer_would_quarantine_are_refused_at_http(
    client: httpx.AsyncClient,
) -> None:
    body = {
        "events": [
            event(0, ts=now_ms() + 9 * 60_000),  # within the default 10 min of skew
            event(1, ts=now_ms() + 11 * 60_000),
            event(2, ts=1_794_326_400_000_000),  # microseconds: 16 digits
            event(3, ts=-1_000_000_000_000_000),
        ]
    }
    rejected = reasons(await post(client, "k-zto", body))
    assert [(index, field) for index, field, _ in rejected] == [(1, "ts"), (2, "ts"), (3, "ts")]
    assert "600 s ahead" in rejected[0][2]
    assert "max_future_skew_s" in rejected[0][2]
    assert "15 digits" in rejected[1][2]


async def test_the_skew_bound_is_the_risk_setting() -> None:
    async with client_for(events_app(risk={"max_future_skew_s": 60})) as client:
        body = {"events": [event(0, ts=now_ms() + 120_000)]}
        [(_, field, reason)] = reasons(await post(client, "k-zto", body))
    assert field == "ts"
    assert "60 s ahead" in reason


# -- tenant safety ---------------------------------------------------------------------------


async def test_a_competitors_hub_gets_the_answer_of_a_hub_that_does_not_exist(
    client: httpx.AsyncClient,
) -> None:
    body = {"events": [event(0, "YTO-SH01"), event(1, "NOPE-1")]}
    competitor, missing = reasons(await post(client, "k-zto", body))
    assert competitor[1:] == missing[1:] == ("hub_id", "must be one of your registered hubs")
    assert "YTO" not in json.dumps([competitor, missing])


async def test_an_admin_is_told_whose_hub_it_is(client: httpx.AsyncClient) -> None:
    [(_, field, reason)] = reasons(
        await post(client, "k-admin", {"events": [event(0, "YTO-SH01")]})
    )
    assert (field, reason) == ("carrier", "must match the hub's carrier (YTO)")


async def test_lanes_run_between_hubs_of_the_sending_carrier() -> None:
    app = events_app()
    departure: dict[str, Any] = {"kind": "departure", "parcels": 100_000_000}
    body = {
        "events": [
            event(0, **departure, to_hub="ZTO-NB01"),
            event(1, **departure, to_hub="YTO-SH01"),  # would raise the competitor's hub to red
            event(2, **departure, to_hub="NOPE-1"),
            event(3, from_hub="YTO-SH01"),
            event(4, from_hub="ZTO-NB01"),
        ]
    }
    async with client_for(app) as client:
        rejected = reasons(await post(client, "k-zto", body))
    same_carrier = "must be a registered hub of the same carrier (ZTO)"
    assert rejected == [
        (1, "to_hub", same_carrier),
        (2, "to_hub", same_carrier),
        (3, "from_hub", same_carrier),
    ]
    produced = app.state.runtime.produced
    assert [e.event_id for e in produced] == ["ZTO-HZ01-0", "ZTO-HZ01-4"]


async def test_a_carriers_keys_share_one_rate() -> None:
    async with client_for(events_app(rate_limits={"ZTO": 10.0, "YTO": 10.0})) as client:
        burst = {"events": [event(i) for i in range(20)]}  # 2 s of the rate: the whole burst
        assert (await post(client, "k-zto", burst)).status_code == 202
        second_key = await post(client, "k-zto-2", {"events": [event(20)]})
        assert second_key.status_code == 429
        assert "ZTO" in second_key.json()["detail"]
        assert int(second_key.headers["Retry-After"]) >= 1
        other = {"events": [event(0, "YTO-SH01", "YTO")]}
        assert (await post(client, "k-yto", other)).status_code == 202


# -- the acknowledge link --------------------------------------------------------------------


class InTestAlerts:
    """The part of ``AlertService`` the acknowledge form uses: every token is wrong."""

    def __init__(self) -> None:
        self.tried: list[str] = []

    async def ack_with_token(self, alert_id: str, token: str, *, by: str) -> Any:
        self.tried.append(token)
        raise AckLinkError("this acknowledge link is not valid for the alert")


async def test_the_ack_form_reads_a_few_kilobytes_at_most() -> None:
    app = FastAPI()
    app.include_router(alert_routes.router)
    app.state.alerts = alerts = InTestAlerts()
    sent = 0

    async def ten_mebibytes() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(160):
            sent += 65536
            yield b"token=" + b"x" * 65530

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        url = "/v1/alerts/a1/ack-link"
        streamed = await client.post(url, content=ten_mebibytes())
        declared = await client.post(url, content=b"token=x", headers={"Content-Length": "9999999"})
        small = await client.post(url, content=b"token=wrong&name=ann")
    assert streamed.status_code == 413
    assert sent <= 2 * 65536  # it stopped reading: it did not take 10 MiB first
    assert declared.status_code == 413
    assert small.status_code == 403
    assert alerts.tried == ["wrong"]  # the oversized forms never reached the token check


# -- against a real service ------------------------------------------------------------------


@pytest.mark.integration
def test_hostile_bodies_answer_at_once_and_the_service_keeps_serving(
    service_factory: Any,
) -> None:
    hubs = "\n".join([hub_line("ZTO-HZ01", "ZTO"), hub_line("YTO-SH01", "YTO")])
    service: Service = service_factory(hubs)
    service.start()
    with service.client() as admin:
        key = admin.post("/v1/api-keys", json={"role": "carrier:ZTO"}).json()["key"]
    answers: list[httpx.Response] = []
    bodies = [
        (b"\n" * (4 * 1024 * 1024), NDJSON),
        (b"x\n" * (2 * 1024 * 1024), NDJSON),
        (b'{"events": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "application/json"),
    ]

    def post_all() -> None:
        with service.client(key) as client:
            for content, content_type in bodies:
                headers = {"Content-Type": content_type}
                answers.append(client.post("/v1/events", content=content, headers=headers))

    poster = threading.Thread(target=post_all)
    started = time.monotonic()
    poster.start()
    slowest_health_s = 0.0
    with httpx.Client(base_url=service.url, timeout=30) as health:
        while poster.is_alive():
            asked = time.monotonic()
            assert health.get("/healthz").status_code == 200
            slowest_health_s = max(slowest_health_s, time.monotonic() - asked)
            time.sleep(0.05)
    poster.join()
    assert time.monotonic() - started < 20  # was minutes, and gigabytes
    assert slowest_health_s < 2.0  # the event loop was never blocked for long
    newlines, lines, deep = answers
    assert newlines.status_code == 202
    assert newlines.json() == {"accepted": 0, "rejected": []}
    assert lines.status_code == 413
    assert "max_batch_events" in lines.json()["detail"]
    assert deep.status_code == 400
    assert "at most 32 levels deep" in deep.json()["detail"]
    with service.client(key) as client:
        departure = event(1, kind="departure", parcels=100_000_000, to_hub="YTO-SH01")
        rejected = client.post("/v1/events", json={"events": [departure]}).json()["rejected"]
    assert [(r["field"], "YTO" in r["reason"]) for r in rejected] == [("to_hub", False)]
