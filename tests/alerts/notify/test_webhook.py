"""Generic webhook: the JSON body, the HMAC-SHA256 signature a receiver can verify."""

from __future__ import annotations

import pytest

from tests.alerts.conftest import ServiceFactory
from tests.alerts.factories import Clock, row
from tests.alerts.notify.conftest import fire, one_route, resolve
from tests.alerts.notify.receiver import RobotReceiver

DESIGN_FIELDS = {
    "id",
    "rule",
    "scope",
    "subject",
    "level",
    "state",
    "started_at",
    "resolved_at",
    "labels",
    "summary",
    "summary_en",
    "values",
    "acked_by",
    "acked_at",
}


def hook(robots: RobotReceiver, secret: str) -> dict[str, object]:
    return {"type": "webhook", "name": "hook", "url": f"{robots.url}/hook", "secret": secret}


@pytest.mark.integration
async def test_signed_body_is_verified_by_the_receiver(
    make_service: ServiceFactory, clock: Clock, robots: RobotReceiver
) -> None:
    service = await make_service(one_route(hook(robots, robots.webhook_secret)))
    await fire(service, clock, row("ZTO-HZ-01", "red", values={"utilization": 1.02}))
    [request] = robots.accepted("/hook")
    body = request.json()
    [entry] = body["items"]
    assert entry["kind"] == "firing"
    assert entry["alert"].keys() >= DESIGN_FIELDS
    assert entry["alert"]["labels"] == {"hub_id": "ZTO-HZ-01", "carrier": "ZTO", "province": "浙江"}
    assert entry["alert"]["values"] == {"utilization": 1.02}
    assert entry["colour"] == "#f5222d"
    assert entry["links"]["ack"].startswith("https://peakwatch.example/v1/alerts/")
    assert request.headers["x-peakwatch-notification-id"] == body["notification_id"]
    assert body["title"].startswith("【红色(I级)】触发")


@pytest.mark.integration
async def test_resolve_is_sent_to_who_heard_the_alert_fire(
    make_service: ServiceFactory, clock: Clock, robots: RobotReceiver
) -> None:
    service = await make_service(one_route(hook(robots, robots.webhook_secret)))
    await fire(service, clock)
    await resolve(service, clock)
    kinds = [r.json()["items"][0]["kind"] for r in robots.accepted("/hook")]
    assert kinds == ["firing", "resolved"]
    assert robots.accepted("/hook")[1].json()["items"][0]["alert"]["resolved_at"] is not None


@pytest.mark.integration
async def test_wrong_secret_is_refused_and_not_retried(
    make_service: ServiceFactory, clock: Clock, robots: RobotReceiver
) -> None:
    service = await make_service(one_route(hook(robots, "not-the-secret")))
    await fire(service, clock)
    await service.deliver_due(wall_now=clock.advance(3600))
    assert len(robots.received) == 1  # 401: the request is wrong, trying again cannot help
    assert not robots.received[0].accepted
