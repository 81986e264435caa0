"""WeCom robot: markdown message shape, and digests that stay under its 4,096-byte limit."""

from __future__ import annotations

import pytest

from tests.alerts.conftest import ServiceFactory
from tests.alerts.factories import Clock, row
from tests.alerts.notify.conftest import FIRE_AT_ONCE, fire
from tests.alerts.notify.receiver import RobotReceiver


def config(robots: RobotReceiver) -> dict[str, object]:
    return {
        **FIRE_AT_ONCE,
        "receivers": [
            {"type": "wecom", "name": "wecom", "url": f"{robots.url}/cgi-bin/webhook/send?key=k"}
        ],
        "routes": [{"receivers": ["wecom"], "group_by": ["rule"], "group_wait_s": 0}],
    }


@pytest.mark.integration
async def test_markdown_shape(
    make_service: ServiceFactory, clock: Clock, robots: RobotReceiver
) -> None:
    service = await make_service(config(robots))
    await fire(service, clock, row("STO-CD-01", "orange", carrier="STO", province="四川"))
    [request] = robots.accepted("/cgi-bin/webhook/send")
    body = request.json()
    assert set(body) == {"msgtype", "markdown"}
    assert body["msgtype"] == "markdown"
    assert "STO-CD-01" in body["markdown"]["content"]
    assert '<font color="warning">' in body["markdown"]["content"]


@pytest.mark.integration
async def test_a_digest_of_many_hubs_fits_the_limit(
    make_service: ServiceFactory, clock: Clock, robots: RobotReceiver
) -> None:
    service = await make_service(config(robots))
    await fire(service, clock, *(row(f"HUB-{n:03d}", "red") for n in range(200)))
    [request] = robots.accepted("/cgi-bin/webhook/send")
    content = request.json()["markdown"]["content"]
    assert content.startswith("### 告警汇总 200 条")
    assert "…另有" in content
