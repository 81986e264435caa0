"""Paging as Alertmanager does it, through the delivery loop, on SQLite and PostgreSQL, to the real
local HTTP receiver: a silence that ends while its alert still fires pages once; a firing alert
nobody acknowledges is repeated every repeat interval, within the robots' rate limits, and no
longer once acknowledged or resolved; two deliverers on one store send each notification once
even when a pass takes longer than the lease."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alerts.config import AlertingConfig
from alerts.delivery.silence import Matcher
from alerts.service import AlertService
from alerts.store.history import AlertQuery
from storage.db import Database
from tests.alerts.conftest import ServiceFactory
from tests.alerts.factories import T0, Clock, frame, row
from tests.alerts.notify.receiver import RobotReceiver

NO_WAIT = {"pending_s": 0, "clear_s": 0}
DINGTALK_SECRET = RobotReceiver.dingtalk_secret


@pytest.fixture
def robots() -> Iterator[RobotReceiver]:
    """The local webhook / DingTalk receiver, running."""
    receiver = RobotReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


def config(robots: RobotReceiver, receiver: dict[str, Any] | None = None) -> dict[str, Any]:
    """One receiver (a signed webhook unless given), every alert routed to it, no waiting."""
    receiver = receiver or {
        "type": "webhook",
        "name": "hook",
        "url": f"{robots.url}/hook",
        "secret": robots.webhook_secret,
    }
    return {
        "default_periods": NO_WAIT,
        "receivers": [receiver],
        "routes": [{"receivers": [receiver["name"]], "group_wait_s": 0, "group_interval_s": 0}],
    }


async def fire(service: AlertService, *rows: dict[str, Any], seconds: int = 0) -> None:
    """One tick with these signals (they fire at once)."""
    await service.process(
        frame(*rows), now=T0 + timedelta(seconds=seconds), owned_hubs=None, evaluates_network=True
    )


@dataclass
class Pager:
    """Runs delivery passes on the test clock and notes what the receiver got at which minute."""

    service: AlertService
    clock: Clock
    robots: RobotReceiver
    start: datetime = field(init=False)
    heard: list[tuple[int, str, str, str | None]] = field(default_factory=list)
    """(minute, kind, subject, previous level) per webhook item, in order."""
    _seen: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.start = self.clock.now

    async def run(self, *, minutes: float, step_s: float = 60) -> None:
        for _ in range(round(minutes * 60 / step_s)):
            await self.service.deliver_due(wall_now=self.clock.advance(step_s))
            minute = round((self.clock.now - self.start).total_seconds() / 60)
            for request in self.robots.accepted("/hook")[self._seen :]:
                for item in request.json()["items"]:
                    subject = item["alert"]["subject"]
                    self.heard.append((minute, item["kind"], subject, item["previous_level"]))
            self._seen = len(self.robots.accepted("/hook"))

    def kinds(self) -> list[tuple[str, str]]:
        return [(kind, subject) for _, kind, subject, _ in self.heard]


@pytest.mark.parametrize("ending", ["expires", "deleted"])
async def test_a_silence_that_ends_while_its_alert_fires_pages_once(
    store: Database,
    robots: RobotReceiver,
    make_service: ServiceFactory,
    clock: Clock,
    ending: str,
) -> None:
    service = await make_service(config(robots), db=store)
    pager = Pager(service, clock, robots)
    silence = await service.create_silence(
        matchers=[Matcher("province", "浙江")], duration_s=1800, created_by="oncall:li"
    )
    await fire(service, row("ZJ-1", province="浙江"), row("JS-1", province="江苏"))
    await pager.run(minutes=20)
    assert pager.kinds() == [("firing", "JS-1")]  # ZJ-1 muted
    if ending == "deleted":
        await service.delete_silence(silence.id, by="oncall:li")
    await pager.run(minutes=30)  # the silence is over (deleted at 20, or expired at 30)
    assert pager.kinds() == [("firing", "JS-1"), ("firing", "ZJ-1")]  # once, not every pass
    [(minute, *_)] = [h for h in pager.heard if h[2] == "ZJ-1"]
    assert minute == (21 if ending == "deleted" else 30)  # at the first pass after it ended


async def test_a_level_change_muted_by_a_silence_is_told_once_it_ends(
    store: Database, robots: RobotReceiver, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service(config(robots), db=store)
    pager = Pager(service, clock, robots)
    await fire(service, row("ZJ-1", "orange"))
    await pager.run(minutes=1)
    await service.create_silence(
        matchers=[Matcher("subject", "ZJ-1")], duration_s=1800, created_by="oncall:li"
    )
    await fire(service, row("ZJ-1", "red"), seconds=60)  # 橙 → 红 while muted
    await pager.run(minutes=45)
    assert [(kind, previous) for _, kind, _, previous in pager.heard] == [
        ("firing", None),
        ("level_changed", "orange"),  # what it missed, from what it knew
    ]


async def test_an_alert_muted_until_it_resolved_is_neither_paged_nor_resolved(
    store: Database, robots: RobotReceiver, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service(config(robots), db=store)
    pager = Pager(service, clock, robots)
    silence = await service.create_silence(
        matchers=[Matcher("subject", "ZJ-1")], duration_s=1800, created_by="oncall:li"
    )
    await fire(service, row("ZJ-1"))
    await pager.run(minutes=10)
    await service.delete_silence(silence.id, by="oncall:li")
    await fire(service, seconds=60)  # resolved before anyone was told it fired
    await pager.run(minutes=10)
    assert pager.heard == []  # a resolve of an alert it never heard of would only confuse


async def test_reminders_every_repeat_interval_none_after_ack_or_resolve(
    store: Database, robots: RobotReceiver, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service(config(robots), db=store)  # the default interval: 1 h
    pager = Pager(service, clock, robots)
    await fire(service, row("A"), row("B"), row("C"))
    await pager.run(minutes=90, step_s=300)  # a pass every 5 minutes
    [a] = [x for x in (await service.list_alerts(AlertQuery())).alerts if x.subject == "A"]
    await service.ack(a.id, by="oncall:zhang")
    await pager.run(minutes=60, step_s=300)
    await fire(service, row("A"), row("C"), seconds=60)  # B resolves at 150 min
    await pager.run(minutes=60, step_s=300)
    reminded = {
        subject: [
            minute - 5 for minute, kind, s, _ in pager.heard if kind == "reminder" and s == subject
        ]
        for subject in "ABC"
    }  # minutes after the first message (sent at minute 5)
    assert reminded == {"A": [60], "B": [60, 120], "C": [60, 120, 180]}
    assert [kind for _, kind, s, _ in pager.heard if s == "B"][-1] == "resolved"
    titles = [r.json()["title"] for r in robots.accepted("/hook")]
    assert any("仍在告警(已持续 1 小时 5 分钟)" in title for title in titles)


async def test_reminders_keep_a_chat_robots_rate_limit(
    store: Database, robots: RobotReceiver, make_service: ServiceFactory, clock: Clock
) -> None:
    ding = {
        "type": "dingtalk",
        "name": "ding",
        "url": f"{robots.url}/robot/send?access_token=t",
        "secret": DINGTALK_SECRET,
    }
    service = await make_service(config(robots, ding), db=store)
    hubs = [f"HUB-{n:02d}" for n in range(30)]
    await fire(service, *(row(hub, "red") for hub in hubs))
    sent_at: list[datetime] = []

    async def passes(minutes: float, *, skip_s: float = 0) -> None:
        clock.advance(skip_s)
        for _ in range(round(minutes * 6)):  # a pass every 10 s
            before = len(robots.accepted("/robot/send"))
            await service.deliver_due(wall_now=clock.advance(10))
            sent_at.extend([clock.now] * (len(robots.accepted("/robot/send")) - before))

    await passes(3)  # the firing messages: 20 at most in the first minute, a digest
    await passes(6, skip_s=55 * 60)  # the reminders fall due at 60 minutes
    per_minute = max(
        sum(1 for t in sent_at if start <= t < start + timedelta(minutes=1)) for start in sent_at
    )
    assert per_minute <= 20
    texts = [r.json()["markdown"]["text"] for r in robots.accepted("/robot/send")]
    reminders = "".join(t for t in texts if "仍在告警" in t)
    assert all(hub in reminders for hub in hubs)  # every alert reminded, some in a digest
    assert all(r.accepted for r in robots.received)


async def test_two_deliverers_send_each_notification_once_when_a_pass_outlasts_the_lease(
    store: Database, robots: RobotReceiver
) -> None:
    robots.delay_s = 0.2  # 30 messages, one after another: a 6 s pass, twice the 3 s lease
    data = config(robots)
    data["receivers"][0]["timeout_s"] = 0.75
    data["outbox"] = {"lease_s": 3, "backoff_initial_s": 1, "backoff_max_s": 1}
    alerting = AlertingConfig.from_mapping({**data, "ack_link_secret": "s"})
    replicas = [
        await AlertService.open(db=store, config=alerting, public_url="https://pw.example")
        for _ in range(2)
    ]
    hubs = [f"HUB-{n:02d}" for n in range(30)]
    try:
        await fire(replicas[0], *(row(hub, "red") for hub in hubs))

        def delivered() -> Counter[str]:
            return Counter(
                item["alert"]["subject"]
                for request in robots.accepted("/hook")
                for item in request.json()["items"]
            )

        async def loop(service: AlertService) -> None:
            deadline = time.monotonic() + 40
            while len(delivered()) < len(hubs) and time.monotonic() < deadline:
                await service.deliver_due(wall_now=datetime.now(UTC))
                await asyncio.sleep(0.05)

        await asyncio.gather(*(loop(service) for service in replicas))
        await asyncio.sleep(1)
        for service in replicas:  # nothing left that either would send again
            await service.deliver_due(wall_now=datetime.now(UTC))
    finally:
        for service in replicas:
            await service.close()
    assert delivered() == Counter(dict.fromkeys(hubs, 1))
