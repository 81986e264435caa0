"""DingTalk robot: 加签 checked by the receiver, markdown shape, error codes."""

from __future__ import annotations

import httpx
import pytest

from alerts.config import DingTalkReceiver
from alerts.notify.base import NotifyError
from alerts.notify.dingtalk import DingTalkNotifier, message
from tests.alerts.conftest import ServiceFactory
from tests.alerts.factories import Clock, alert, item, renderer, row, single
from tests.alerts.notify.conftest import fire, one_route
from tests.alerts.notify.receiver import RobotReceiver


def ding(robots: RobotReceiver, secret: str) -> dict[str, object]:
    url = f"{robots.url}/robot/send?access_token=token"
    return {
        "type": "dingtalk",
        "name": "ding",
        "url": url,
        "secret": secret,
        "at_mobiles": ["13800000000"],
    }


@pytest.mark.integration
async def test_signed_markdown_is_accepted(
    make_service: ServiceFactory, clock: Clock, robots: RobotReceiver
) -> None:
    service = await make_service(one_route(ding(robots, robots.dingtalk_secret)))
    await fire(service, clock, row("ZTO-HZ-01", "orange"))
    [request] = robots.accepted("/robot/send")
    body = request.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "【橙色(II级)】触发 · 爆仓风险 · ZTO-HZ-01"
    assert '<font color="#fa8c16">' in body["markdown"]["text"]
    assert "@13800000000" in body["markdown"]["text"]
    assert body["at"]["atMobiles"] == ["13800000000"]
    assert request.query["access_token"] == ["token"]


@pytest.mark.integration
async def test_bad_signature_fails_without_retry(
    make_service: ServiceFactory, clock: Clock, robots: RobotReceiver
) -> None:
    service = await make_service(one_route(ding(robots, "SECwrong")))
    await fire(service, clock)
    await service.deliver_due(wall_now=clock.advance(3600))
    assert [r.accepted for r in robots.received] == [False]


async def test_send_too_fast_is_retryable() -> None:
    config = DingTalkReceiver(name="ding", url="http://robot/send?access_token=t")
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, json={"errcode": 130101, "errmsg": "send too fast"})
    )
    async with httpx.AsyncClient(transport=transport) as client:
        notifier = DingTalkNotifier(config, renderer=renderer(), client=client)
        with pytest.raises(NotifyError) as raised:
            await notifier.notify(single(item(1)))
    assert raised.value.retryable


def test_unsigned_robot_needs_no_query() -> None:
    body = message(single(item(1, alert(level="yellow"))), renderer("en"))
    assert body["markdown"]["title"].startswith("【Yellow (III)】FIRING")
