"""Feishu bot: signature in the body checked by the receiver; a card in the level's colour."""

from __future__ import annotations

import pytest

from alerts.notify.feishu import card
from tests.alerts.conftest import ServiceFactory
from tests.alerts.factories import Clock, alert, item, renderer, row, single
from tests.alerts.notify.conftest import fire, one_route, resolve
from tests.alerts.notify.receiver import RobotReceiver


def bot(robots: RobotReceiver, secret: str) -> dict[str, object]:
    return {
        "type": "feishu",
        "name": "feishu",
        "url": f"{robots.url}/open-apis/bot/v2/hook/abc",
        "secret": secret,
    }


@pytest.mark.integration
async def test_signed_card_is_accepted(
    make_service: ServiceFactory, clock: Clock, robots: RobotReceiver
) -> None:
    service = await make_service(one_route(bot(robots, robots.feishu_secret)))
    await fire(service, clock, row("YTO-SH-02", "red", carrier="YTO", province="上海"))
    await resolve(service, clock)
    firing, resolved = (r.json()["card"] for r in robots.accepted("/open-apis/"))
    assert firing["header"]["template"] == "red"
    assert "YTO-SH-02" in firing["header"]["title"]["content"]
    buttons = firing["elements"][1]["actions"]
    assert [b["text"]["content"] for b in buttons] == ["查看看板", "确认告警"]
    assert resolved["header"]["template"] == "green"


@pytest.mark.integration
async def test_bad_signature_is_refused(
    make_service: ServiceFactory, clock: Clock, robots: RobotReceiver
) -> None:
    service = await make_service(one_route(bot(robots, "wrong")))
    await fire(service, clock)
    assert [r.accepted for r in robots.received] == [False]


def test_card_colour_follows_the_worst_level() -> None:
    assert (
        card(single(item(1, alert(level="yellow"))), renderer())["header"]["template"] == "yellow"
    )
