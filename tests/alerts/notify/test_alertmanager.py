"""Alertmanager v2 push, checked through a real Alertmanager's own API: labels, annotations,
``startsAt``, re-sent while firing, a level change replaces the severity, resolve ends it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from alerts.config import AlertmanagerReceiver
from alerts.notify.alertmanager import AlertmanagerNotifier, item_alerts
from tests.alerts.conftest import ServiceFactory
from tests.alerts.factories import LINKS, T0, Clock, alert, frame, item, row
from tests.alerts.notify.conftest import FIRE_AT_ONCE
from tests.support.alertmanager import AlertmanagerServer, alertmanager_alerts


def config(url: str) -> dict[str, object]:
    return {
        **FIRE_AT_ONCE,
        "receivers": [{"type": "alertmanager", "name": "am", "url": url, "resend_interval_s": 30}],
        "routes": [{"receivers": ["am"], "group_wait_s": 0, "group_interval_s": 0}],
    }


@pytest.mark.integration
async def test_push_level_change_and_resolve(
    make_service: ServiceFactory, clock: Clock, alertmanager: AlertmanagerServer
) -> None:
    # Alertmanager compares times with its own clock: run the service on the real one here.
    clock.now = datetime.now(UTC)
    hub = f"HUB-{uuid.uuid4().hex[:8]}"
    service = await make_service(config(alertmanager.url))

    await service.process(
        frame(row(hub, "orange")), now=T0, owned_hubs=None, evaluates_network=True
    )
    await service.deliver_due(wall_now=clock.now)
    [held] = await alertmanager_alerts(alertmanager.url, subject=hub)
    assert (
        held["labels"]
        | {"alertname": "hub_overflow", "severity": "orange", "carrier": "ZTO", "province": "浙江"}
        == held["labels"]
    )
    assert held["annotations"]["summary"] == f"{hub} 利用率 91%"
    assert held["annotations"]["ack_url"].startswith("https://peakwatch.example/v1/alerts/")
    assert held["startsAt"].startswith("2025-11-11T12:00:00")
    assert held["status"]["state"] == "active"

    await service.process(
        frame(row(hub, "red")),
        now=T0 + timedelta(minutes=1),
        owned_hubs=None,
        evaluates_network=True,
    )
    await service.deliver_due(wall_now=clock.now)
    assert [
        a["labels"]["severity"] for a in await alertmanager_alerts(alertmanager.url, subject=hub)
    ] == ["red"]

    await service.process(
        frame(), now=T0 + timedelta(minutes=2), owned_hubs=None, evaluates_network=True
    )
    await service.deliver_due(wall_now=clock.now)
    assert await alertmanager_alerts(alertmanager.url, subject=hub) == []


@pytest.mark.integration
async def test_firing_alerts_are_re_sent_before_alertmanager_times_them_out(
    make_service: ServiceFactory, clock: Clock, alertmanager: AlertmanagerServer
) -> None:
    clock.now = datetime.now(UTC)
    hub = f"HUB-{uuid.uuid4().hex[:8]}"
    service = await make_service(config(alertmanager.url))
    await service.process(
        frame(row(hub, "yellow")), now=T0, owned_hubs=None, evaluates_network=True
    )
    await service.deliver_due(wall_now=clock.now)
    [first] = await alertmanager_alerts(alertmanager.url, subject=hub)
    # A pass after the resend interval pushes it again with a later endsAt.
    await service.deliver_due(wall_now=clock.advance(31))
    [again] = await alertmanager_alerts(alertmanager.url, subject=hub)
    assert again["endsAt"] > first["endsAt"]
    assert again["fingerprint"] == first["fingerprint"]


def test_resolve_never_ends_in_the_future() -> None:
    now = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)
    # Event time runs ahead of the wall clock (a replay, a skewed producer): endsAt is capped.
    resolved = alert(
        state="resolved", fired_at=now - timedelta(minutes=10), resolved_at=now + timedelta(hours=1)
    )
    [pushed] = item_alerts(
        item(1, resolved, kind="resolved"), now=now, firing_ttl=timedelta(minutes=4), links=LINKS
    )
    assert pushed["endsAt"] == "2025-11-11T12:00:00Z"


async def test_chunks_large_syncs() -> None:
    posts: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        import json

        posts.append(len(json.loads(request.content)))
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        notifier = AlertmanagerNotifier(
            AlertmanagerReceiver(name="am", url="http://am:9093"), links=LINKS, client=client
        )
        await notifier.sync([alert(f"H{n}") for n in range(1200)])
    assert posts == [500, 500, 200]
