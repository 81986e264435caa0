"""Notifications reach the person on duty: through the service's real delivery pass, a DingTalk
message @-mentions the province's person on duty (phone and user id), an escalation the leader
on call; WeCom, Feishu and e-mail name them their own way; nobody on the roster, nobody added."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from alerts.config import EmailReceiver
from alerts.duty import Shift
from alerts.notify import feishu, wecom
from alerts.notify.email import build_message
from alerts.store.duty import replace_roster
from storage.db import Database
from tests.alerts.conftest import ServiceFactory
from tests.alerts.factories import T0, WALL0, Clock, FakeReceiver, frame, item, renderer, row
from tests.alerts.factories import single as single_message

NO_WAIT = {"pending_s": 0, "clear_s": 0}
DING = {"type": "dingtalk", "name": "ding", "url": "http://ding.example/robot"}
LEAD = {"type": "dingtalk", "name": "lead", "url": "http://lead.example/robot"}


def _shift(person: str, role: str, province: str, **contact: Any) -> Shift:
    return Shift.model_validate(
        {
            "person": person,
            "role": role,
            "province": province,
            "starts_at": WALL0 - timedelta(hours=4),
            "ends_at": WALL0 + timedelta(hours=8),
            **contact,
        }
    )


ROSTER = [
    _shift("王伟", "duty", "浙江", phone="13800000001", dingtalk_id="ding-wang"),
    _shift("李强", "leader", "浙江", phone="13900000009"),
    _shift("赵敏", "duty", "CN", phone="13800000003"),
]


def _config(escalate_after_s: float | None = None) -> dict[str, Any]:
    route: dict[str, Any] = {"receivers": ["ding"], "group_wait_s": 0}
    if escalate_after_s is not None:
        route["escalations"] = [{"after_s": escalate_after_s, "receivers": ["lead"]}]
    return {"default_periods": NO_WAIT, "receivers": [DING, LEAD], "routes": [route]}


async def _roster(db: Database, shifts: list[Shift]) -> None:
    async with db.sessionmaker.begin() as session:
        await replace_roster(session, shifts, by="regulator:test", wall_now=WALL0)


async def test_a_message_mentions_the_person_on_duty_and_an_escalation_the_leader(
    make_service: ServiceFactory, sqlite_db: Database, clock: Clock
) -> None:
    await _roster(sqlite_db, ROSTER)
    receiver = FakeReceiver()
    service = await make_service(_config(escalate_after_s=600), transport=receiver.transport())
    await service.process(
        frame(row("ZTO-HZ-01", "red")), now=T0, owned_hubs=None, evaluates_network=True
    )
    await service.deliver_due(wall_now=clock.advance(1))
    [first] = receiver.bodies("ding.example")
    assert first["at"]["atMobiles"] == ["13800000001"]
    assert first["at"]["atUserIds"] == ["ding-wang"]
    assert "@13800000001" in first["markdown"]["text"]

    await service.deliver_due(wall_now=clock.advance(601))  # nobody acknowledged it
    [escalation] = receiver.bodies("lead.example")
    assert escalation["at"]["atMobiles"] == ["13900000009"]  # the leader on call, not 王伟


async def test_a_province_without_a_shift_falls_back_to_the_national_duty_office(
    make_service: ServiceFactory, sqlite_db: Database, clock: Clock
) -> None:
    await _roster(sqlite_db, ROSTER)
    receiver = FakeReceiver()
    service = await make_service(_config(), transport=receiver.transport())
    hub = row("YTO-NJ-01", "red", carrier="YTO", province="江苏")
    await service.process(frame(hub), now=T0, owned_hubs=None, evaluates_network=True)
    await service.deliver_due(wall_now=clock.advance(1))
    [message] = receiver.bodies("ding.example")
    assert message["at"]["atMobiles"] == ["13800000003"]


async def test_an_empty_roster_adds_nobody(make_service: ServiceFactory, clock: Clock) -> None:
    receiver = FakeReceiver()
    service = await make_service(_config(), transport=receiver.transport())
    await service.process(
        frame(row("ZTO-HZ-01", "red")), now=T0, owned_hubs=None, evaluates_network=True
    )
    await service.deliver_due(wall_now=clock.advance(1))
    [message] = receiver.bodies("ding.example")
    assert message["at"]["atMobiles"] == []
    assert "@" not in message["markdown"]["text"].split("\n")[-1]


def test_wecom_feishu_and_email_name_the_person_on_duty_their_own_way() -> None:
    person = _shift(
        "王伟",
        "duty",
        "浙江",
        email="wangwei@post.example",
        wecom_id="wangwei",
        feishu_id="ou_7d8a6e6df7621556ce0d21922b676706ccs",
    )
    message = single_message(replace(item(1), on_duty=person))
    content = wecom.message(message, renderer())["markdown"]["content"]
    assert content.endswith("<@wangwei>")
    assert len(content.encode()) <= wecom.MAX_CONTENT_BYTES
    card = feishu.card(message, renderer())
    assert any(
        "<at id=ou_7d8a6e6df7621556ce0d21922b676706ccs></at>"
        in e.get("text", {}).get("content", "")
        for e in card["elements"]
    )
    receiver = EmailReceiver(
        name="mail", host="smtp.example", from_addr="pw@x.example", to=("duty-room@post.example",)
    )
    email = build_message(receiver, message, renderer())
    assert email["To"] == "duty-room@post.example, wangwei@post.example"
