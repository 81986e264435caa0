"""Courier mitigations through a running service: a carrier declares a measure for its hub, the
hub's alert (JSON and message) shows it, a competitor can neither declare for that hub nor see
the measure, and when it ends the alert says whether net inflow and time to overflow improved."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.alerts.notify.receiver import RobotReceiver
from tests.support.service import Service, call, hub_line, wait_for

pytestmark = pytest.mark.integration

ROLES = ("regulator", "carrier:ZTO", "carrier:YTO")
MINUTE_MS = 60_000


def _alerting(receiver: RobotReceiver) -> str:
    """Every alert at once to one webhook (no pending period, no group wait)."""
    return json.dumps(
        {
            "default_periods": {"pending_s": 0, "clear_s": 300},
            "receivers": [
                {
                    "type": "webhook",
                    "name": "hook",
                    "url": f"{receiver.url}/hook",
                    "secret": receiver.webhook_secret,
                }
            ],
            "routes": [{"receivers": ["hook"], "group_wait_s": 0, "group_interval_s": 0}],
            "network_digest": False,
        }
    )


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str
) -> Iterator[tuple[Service, dict[str, str], RobotReceiver]]:
    """A service with a ZTO hub and a YTO hub, a webhook receiver, and a key per role."""
    from tests.support.service import make_service

    receiver = RobotReceiver().start()
    hubs = "\n".join([hub_line("ZTO-HZ01", "ZTO"), hub_line("YTO-SH01", "YTO", province="上海")])
    service = make_service(
        tmp_path_factory.mktemp("mitigations"),
        kafka_bootstrap,
        hubs,
        overrides={"PEAKWATCH_ALERTING": _alerting(receiver)},
    )
    service.start()
    keys = {"admin": service.admin_key}
    for role in ROLES:
        response = call(service, service.admin_key, "POST", "/v1/api-keys", {"role": role})
        assert response.status_code == 201, response.text
        keys[role] = response.json()["key"]
    try:
        yield service, keys, receiver
    finally:
        service.kill()
        receiver.stop()


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _measure(hub_id: str = "ZTO-HZ01", **fields: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "hub_id": hub_id,
        "kind": "throttle",
        "starts_at": _iso(now - timedelta(minutes=15)),
        "planned_end_at": _iso(now + timedelta(hours=2)),
        "expected_effect": "进港量减少三成",
        "note": "夜班限流，优先处理积压",
        **fields,
    }


def _events(hub: str, carrier: str, now_ms: int) -> list[dict[str, Any]]:
    """12 minutes of 5,000 arrivals (60 % full and 10 minutes from overflow), then 12 of 5,000
    departures that empty the hub again."""

    def event(i: int, kind: str, minutes_ago: int) -> dict[str, Any]:
        return {
            "event_id": f"{hub}-{kind}-{i}",
            "carrier": carrier,
            "hub_id": hub,
            "ts": now_ms - minutes_ago * MINUTE_MS,
            "kind": kind,
            "parcels": 5_000,
        }

    arrivals = [event(i, "arrival", 30 - i) for i in range(12)]
    departures = [event(i, "departure", 14 - i) for i in range(12)]
    return arrivals + departures


def _hub_alert(service: Service, key: str, hub: str) -> dict[str, Any] | None:
    page = call(service, key, "GET", f"/v1/alerts?subject={hub}&rule=hub_overflow").json()
    return next(iter(page["alerts"]), None)


def _field_of(response: Any) -> set[str]:
    return {str(error["loc"][-1]) for error in response.json()["detail"]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "pray"}, "kind"),
        ({"planned_end_at": "2020-01-01T00:00:00Z"}, "planned_end_at"),
        ({"note": "x" * 1_000_000}, "note"),
        ({"starts_at": "yesterday"}, "starts_at"),
        ({"starts_at": "9999-12-31T23:00:00-05:00"}, "starts_at"),
        ({"note": "夜班\x00限流"}, "note"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    world: tuple[Service, dict[str, str], RobotReceiver], change: dict[str, Any], field: str
) -> None:
    service, keys, _ = world
    response = call(service, keys["carrier:ZTO"], "POST", "/v1/mitigations", _measure(**change))
    assert response.status_code == 422
    assert field in _field_of(response)


def test_a_competitors_hub_answers_as_no_hub_at_all(
    world: tuple[Service, dict[str, str], RobotReceiver],
) -> None:
    service, keys, _ = world
    foreign = call(service, keys["carrier:YTO"], "POST", "/v1/mitigations", _measure())
    unknown = call(service, keys["carrier:YTO"], "POST", "/v1/mitigations", _measure("ZTO-NONE"))
    assert (foreign.status_code, unknown.status_code) == (404, 404)
    assert foreign.json()["detail"].replace("ZTO-HZ01", "X") == unknown.json()["detail"].replace(
        "ZTO-NONE", "X"
    )
    assert "hub_id" in foreign.json()["detail"]
    admin = call(service, keys["admin"], "POST", "/v1/mitigations", _measure("ZTO-NONE"))
    assert admin.status_code == 422
    assert _field_of(admin) == {"hub_id"}
    regulator = call(service, keys["regulator"], "POST", "/v1/mitigations", _measure())
    assert regulator.status_code == 403


def test_a_declared_measure_shows_on_its_hubs_alert_and_reports_its_effect_when_it_ends(
    world: tuple[Service, dict[str, str], RobotReceiver],
) -> None:
    service, keys, receiver = world
    zto, yto = keys["carrier:ZTO"], keys["carrier:YTO"]
    declared = call(service, zto, "POST", "/v1/mitigations", _measure())
    assert declared.status_code == 201, declared.text
    measure = declared.json()
    assert (measure["kind"], measure["kind_zh"], measure["carrier"]) == ("throttle", "限流", "ZTO")

    now_ms = int(time.time() * 1000)
    events = _events("ZTO-HZ01", "ZTO", now_ms) + _events("YTO-SH01", "YTO", now_ms)
    assert call(service, keys["admin"], "POST", "/v1/events", {"events": events}).status_code == 202
    alert = wait_for(
        lambda: _hub_alert(service, keys["regulator"], "ZTO-HZ01"), what="ZTO's overflow alert"
    )
    assert [m["id"] for m in alert["mitigations"]] == [measure["id"]]
    assert alert["mitigations"][0]["expected_effect"] == "进港量减少三成"
    theirs = call(service, yto, "GET", "/v1/alerts").json()["alerts"]
    assert all(a["labels"]["carrier"] == "YTO" and a["mitigations"] == [] for a in theirs)

    # the message about ZTO's hub names the measure
    def message() -> str | None:
        texts = [r.json()["text"] for r in receiver.accepted("/hook")]
        return next((t for t in texts if "ZTO-HZ01" in t and "处置措施" in t), None)

    text = wait_for(
        message,
        what="a message naming the measure",
        describe=lambda: [
            (r.json()["title"], r.json()["digest"], r.json()["text"][-400:])
            for r in receiver.received
        ],
    )
    assert "限流" in text  # a message of its own, or its line in a digest

    # the competitor sees nothing of it, and cannot end it
    assert call(service, yto, "GET", "/v1/mitigations").json() == []
    assert call(service, yto, "GET", f"/v1/mitigations/{measure['id']}").status_code == 404
    assert call(service, yto, "POST", f"/v1/mitigations/{measure['id']}/end").status_code == 404
    seen = call(service, keys["regulator"], "GET", "/v1/mitigations").json()
    assert [m["id"] for m in seen] == [measure["id"]]

    # once the hub has drained, ZTO ends the measure: both numbers improved
    wait_for(
        lambda: (
            (call(service, zto, "GET", "/v1/hubs/ZTO-HZ01").json()["net_inflow_per_min"] or 0) < 0
        ),
        what="the hub draining",
    )
    ended = call(service, zto, "POST", f"/v1/mitigations/{measure['id']}/end")
    assert ended.status_code == 200, ended.text
    effect = ended.json()["effect"]
    assert effect["net_inflow_improved"] is True, effect
    assert effect["time_to_overflow_improved"] is True, effect
    assert "已改善" in effect["summary"]
    alert = _hub_alert(service, keys["regulator"], "ZTO-HZ01")
    assert alert is not None
    assert alert["mitigations"][0]["effect"]["net_inflow_improved"] is True
    again = call(service, zto, "POST", f"/v1/mitigations/{measure['id']}/end")
    assert again.status_code == 409


def test_the_board_shows_the_measure_under_its_hubs_alert(
    world: tuple[Service, dict[str, str], RobotReceiver],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.app.test_board import CHROMIUM, CHROMIUM_ARGS, WALL_SCREEN

    service, keys, _ = world
    yto = keys["carrier:YTO"]
    # a minute ahead (the watermark follows the wall clock by now): YTO's hub fills up
    now_ms = int(time.time() * 1000)
    events = [
        {
            "event_id": f"YTO-SH01-fill-{i}",
            "carrier": "YTO",
            "hub_id": "YTO-SH01",
            "ts": now_ms + (i + 1) * MINUTE_MS,
            "kind": "arrival",
            "parcels": 25_000,
        }
        for i in range(4)
    ]
    assert call(service, yto, "POST", "/v1/events", {"events": events}).status_code == 202
    declared = call(
        service, yto, "POST", "/v1/mitigations", _measure("YTO-SH01", kind="stop_intake")
    )
    assert declared.status_code == 201, declared.text

    def firing_with_measure() -> dict[str, Any] | None:
        page = call(service, yto, "GET", "/v1/alerts?state=firing&subject=YTO-SH01").json()
        return next((a for a in page["alerts"] if a["mitigations"]), None)

    alert = wait_for(firing_with_measure, what="a firing YTO-SH01 alert carrying the measure")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=WALL_SCREEN, locale="zh-CN")
            page.goto(f"{service.url}/?key={yto}")
            line = page.locator(f"#alert-feed li[data-alert-id='{alert['id']}'] .measures")
            expect(line).to_have_text("处置措施: 停收", timeout=20_000)
        finally:
            browser.close()
