"""Delivery passes on the wall clock: retries with back-off, failures that are final, group wait,
rate limits merged into digests, the network digest, silences, escalation and acknowledgement."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from alerts.service import AlertService
from tests.alerts.conftest import ServiceFactory
from tests.alerts.factories import T0, Clock, FakeReceiver, frame, row

NO_WAIT = {"pending_s": 0, "clear_s": 0}
AT_ONCE = {"default_periods": NO_WAIT, "periods": {"network_paralysis": NO_WAIT}}


def config(receiver: dict[str, Any] | None = None, **route: Any) -> dict[str, Any]:
    receiver = receiver or {"type": "webhook", "name": "hook", "url": "http://hook.example/in"}
    return {
        **AT_ONCE,
        "receivers": [
            receiver,
            {"type": "webhook", "name": "lead", "url": "http://lead.example/in"},
        ],
        "routes": [{"receivers": [receiver["name"]], "group_wait_s": 0, **route}],
        "outbox": {"backoff_initial_s": 5, "backoff_max_s": 60, "give_up_after_s": 3600},
    }


async def fire(service: AlertService, *rows: dict[str, object], seconds: int = 0) -> None:
    await service.process(
        frame(*rows), now=T0 + timedelta(seconds=seconds), owned_hubs=None, evaluates_network=True
    )


def alerts_in(receiver: FakeReceiver, path: str = "hook.example") -> list[str]:
    return [i["alert"]["subject"] for b in receiver.bodies(path) for i in b["items"]]


async def test_retries_with_back_off_until_delivered_once(
    make_service: ServiceFactory, clock: Clock
) -> None:
    receiver = FakeReceiver(answers=[(503, {}), (0, None), (502, {})])  # 0: connection refused
    service = await make_service(config(), transport=receiver.transport())
    await fire(service, row("A"))
    attempts_at = []
    for _ in range(40):  # one pass a second for 40 s
        before = len(receiver.requests)
        await service.deliver_due(wall_now=clock.advance(1))
        if len(receiver.requests) > before:
            attempts_at.append(clock.now)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(attempts_at)]
    assert gaps == [5, 10, 20]  # doubling back-off
    assert alerts_in(receiver) == ["A", "A", "A", "A"]  # three failures, then delivered once


async def test_a_request_the_receiver_rejects_is_not_retried(
    make_service: ServiceFactory, clock: Clock
) -> None:
    receiver = FakeReceiver(answers=[(400, {"error": "bad"})])
    service = await make_service(config(), transport=receiver.transport())
    await fire(service, row("A"))
    for _ in range(5):
        await service.deliver_due(wall_now=clock.advance(600))
    assert len(receiver.requests) == 1


async def test_gives_up_after_the_configured_time(
    make_service: ServiceFactory, clock: Clock
) -> None:
    receiver = FakeReceiver(answers=[(503, {})] * 1000)
    service = await make_service(config(), transport=receiver.transport())
    await fire(service, row("A"))
    for _ in range(100):
        await service.deliver_due(wall_now=clock.advance(60))
    assert 55 <= len(receiver.requests) <= 62  # about one a minute for the hour, then no more


async def test_group_wait_collects_alerts_into_one_message(
    make_service: ServiceFactory, clock: Clock
) -> None:
    receiver = FakeReceiver()
    service = await make_service(
        config(group_wait_s=30, group_by=["rule"]), transport=receiver.transport()
    )
    await fire(service, row("A"))
    await service.deliver_due(wall_now=clock.advance(10))
    assert receiver.requests == []
    await fire(service, row("A"), row("B"), seconds=10)
    await service.deliver_due(wall_now=clock.advance(20))  # A's group wait is over: B rides along
    await service.deliver_due(wall_now=clock.advance(20))
    assert [sorted(i["alert"]["subject"] for i in b["items"]) for b in receiver.bodies()] == [
        ["A", "B"]
    ]


async def test_dingtalk_gets_at_most_twenty_messages_a_minute_and_every_alert(
    make_service: ServiceFactory, clock: Clock
) -> None:
    receiver = FakeReceiver()
    ding = {
        "type": "dingtalk",
        "name": "ding",
        "url": "http://ding.example/robot/send?access_token=t",
    }
    service = await make_service(config(ding), transport=receiver.transport())
    await fire(service, *(row(f"HUB-{n:03d}", "red") for n in range(60)))
    await service.deliver_due(wall_now=clock.advance(1))
    await fire(service, *(row(f"HUB-{n:03d}", "red") for n in range(80)), seconds=5)
    await service.deliver_due(wall_now=clock.advance(5))  # no budget left: waits, not dropped
    assert len(receiver.requests) == 20
    await service.deliver_due(wall_now=clock.advance(60))  # a new minute: 20 more
    texts = [b["markdown"]["text"] for b in receiver.bodies("ding.example")]
    assert len(texts) == 40
    assert all(f"HUB-{n:03d}" in "".join(texts) for n in range(80))
    assert "机器人发送频率已达上限" in texts[19]  # the first minute's last message: 41 alerts


async def test_while_the_network_fires_hub_alerts_come_as_one_digest(
    make_service: ServiceFactory, clock: Clock
) -> None:
    receiver = FakeReceiver()
    service = await make_service(config(), transport=receiver.transport())
    network = row("CN", "red", rule="network_paralysis", scope="network")
    await fire(service, network)
    await service.deliver_due(wall_now=clock.advance(1))
    await fire(service, network, *(row(f"HUB-{n}", "orange") for n in range(12)), seconds=10)
    await service.deliver_due(wall_now=clock.advance(1))
    digests = [b for b in receiver.bodies() if b["digest"] == "network"]
    assert len(receiver.requests) == 2
    assert len(digests[0]["items"]) == 12


async def test_silenced_alerts_are_recorded_but_not_sent(
    make_service: ServiceFactory, clock: Clock
) -> None:
    from alerts.delivery.silence import Matcher

    receiver = FakeReceiver()
    service = await make_service(config(), transport=receiver.transport())
    silence = await service.create_silence(
        matchers=[Matcher("province", "浙江")],
        ends_at=clock.now + timedelta(hours=1),
        created_by="oncall:1",
    )
    await fire(service, row("ZJ-1", province="浙江"), row("JS-1", province="江苏"))
    await service.deliver_due(wall_now=clock.advance(1))
    assert alerts_in(receiver) == ["JS-1"]
    await service.delete_silence(silence.id, by="oncall:1")
    await fire(
        service, row("ZJ-1", "red", province="浙江"), row("JS-1", province="江苏"), seconds=60
    )
    await service.deliver_due(wall_now=clock.advance(120))
    assert alerts_in(receiver) == ["JS-1", "ZJ-1"]  # after the silence, it goes out once


async def test_escalation_when_nobody_acknowledges(
    make_service: ServiceFactory, clock: Clock
) -> None:
    receiver = FakeReceiver()
    escalations = [{"after_s": 600, "receivers": ["lead"]}]
    service = await make_service(config(escalations=escalations), transport=receiver.transport())
    await fire(service, row("A"), row("B"))
    await service.deliver_due(wall_now=clock.advance(1))
    await service.deliver_due(wall_now=clock.advance(300))
    assert alerts_in(receiver, "lead.example") == []
    [a_alert] = [a for a in (await service.list_alerts(_query())).alerts if a.subject == "A"]
    await service.ack(a_alert.id, by="oncall:zhang")
    await service.deliver_due(wall_now=clock.advance(300))
    await service.deliver_due(wall_now=clock.advance(3600))
    escalated = [i for b in receiver.bodies("lead.example") for i in b["items"]]
    assert [(i["kind"], i["alert"]["subject"]) for i in escalated] == [
        ("escalation", "B"),
        ("reminder", "B"),  # still nobody acknowledged an hour after the escalation
    ]


async def test_acknowledging_before_a_queued_escalation_goes_out_stops_it(
    make_service: ServiceFactory, clock: Clock
) -> None:
    receiver = FakeReceiver(answers=[(200, {}), (503, {})])  # the first escalation attempt fails
    escalations = [{"after_s": 600, "receivers": ["lead"]}]
    service = await make_service(config(escalations=escalations), transport=receiver.transport())
    await fire(service, row("A"))
    await service.deliver_due(wall_now=clock.advance(1))
    await service.deliver_due(wall_now=clock.advance(600))  # escalation attempted, 503
    [alert] = (await service.list_alerts(_query())).alerts
    await service.ack(alert.id, by="oncall:zhang")
    await service.deliver_due(wall_now=clock.advance(3600))
    assert len(receiver.bodies("lead.example")) == 1  # only the failed attempt; no retry after ack


def _query() -> Any:
    from alerts.store.history import AlertQuery

    return AlertQuery()
