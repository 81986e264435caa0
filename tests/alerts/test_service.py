"""The facade: ticks in, alerts and history out; replicas stay in their lane; acknowledgements;
the change stream; metrics."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from alerts.config import AlertingConfig
from alerts.errors import AlertNotActiveError, AlertNotFoundError
from alerts.model import AlertChange
from alerts.service import AlertService
from alerts.store.history import AlertQuery
from storage.db import Database
from tests.alerts.conftest import ServiceFactory
from tests.alerts.factories import T0, Clock, FakeReceiver, frame, row

QUICK = {"default_periods": {"pending_s": 60, "clear_s": 120}}
HOOK = {
    **QUICK,
    "receivers": [{"type": "webhook", "name": "hook", "url": "http://hook.example/in"}],
    "routes": [{"receivers": ["hook"], "group_wait_s": 0}],
}


async def tick(
    service: AlertService,
    seconds: int,
    *rows: dict[str, object],
    owned: set[str] | None = None,
    network: bool = True,
) -> list[AlertChange]:
    return await service.process(
        frame(*rows),
        now=T0 + timedelta(seconds=seconds),
        owned_hubs=owned,
        evaluates_network=network,
    )


async def test_nothing_is_sent_during_a_tick_but_everything_is_recorded(
    make_service: ServiceFactory, clock: Clock
) -> None:
    receiver = FakeReceiver()
    service = await make_service(HOOK, transport=receiver.transport())
    await tick(service, 0, row("A", "orange"))
    changes = await tick(service, 60, row("A", "orange"))
    assert [c.kind for c in changes] == ["firing"]
    assert receiver.requests == []  # recorded in the outbox, not sent yet
    assert await service.deliver_due(wall_now=clock.advance(1)) == 1
    assert len(receiver.requests) == 1


async def test_level_change_updates_the_same_alert_and_notifies(
    make_service: ServiceFactory, clock: Clock
) -> None:
    receiver = FakeReceiver()
    service = await make_service(HOOK, transport=receiver.transport())
    await tick(service, 0, row("A", "yellow"))
    [fired] = await tick(service, 60, row("A", "yellow"))
    await service.deliver_due(wall_now=clock.advance(1))
    [raised] = await tick(service, 90, row("A", "orange"))
    await service.deliver_due(wall_now=clock.advance(120))
    assert raised.kind == "level_changed"
    assert raised.previous_level == "yellow"
    assert raised.alert.id == fired.alert.id
    page = await service.list_alerts(AlertQuery())
    assert [(a.id, a.level) for a in page.alerts] == [(fired.alert.id, "orange")]
    kinds = [b["items"][0]["kind"] for b in receiver.bodies()]
    assert kinds == ["firing", "level_changed"]


async def test_a_replica_never_resolves_hubs_it_does_not_own(
    make_service: ServiceFactory, sqlite_db: Database
) -> None:
    east = await make_service(QUICK)
    west = await make_service(QUICK, db=sqlite_db)
    for seconds in (0, 60, 300, 600):  # each replica reports only its own hub, both hold
        await tick(east, seconds, row("EAST-1"), owned={"EAST-1"}, network=False)
        await tick(west, seconds, row("WEST-1"), owned={"WEST-1"}, network=False)
    alerts = (await east.list_alerts(AlertQuery())).alerts
    assert {a.subject: a.state for a in alerts} == {"EAST-1": "firing", "WEST-1": "firing"}
    for alert in alerts:
        assert [c.kind for c in await east.history(alert.id)] == ["pending", "firing"]


async def test_only_the_network_replica_changes_network_alerts(
    make_service: ServiceFactory,
) -> None:
    hubs_only = await make_service(QUICK)
    network = row("CN", "red", rule="network_paralysis", scope="network")
    await tick(hubs_only, 0, network, network=True)
    for seconds in (60, 120, 600):
        await tick(hubs_only, seconds, network=False)  # a hub-only replica: no network signals
    [alert] = (await hubs_only.list_alerts(AlertQuery(rules=("network_paralysis",)))).alerts
    assert alert.state == "pending"


async def test_a_repeated_subject_in_one_tick_counts_at_its_worst_level(
    make_service: ServiceFactory,
) -> None:
    service = await make_service(QUICK)
    [change] = await tick(service, 0, row("A", "yellow"), row("A", "red"), row("A", "blue"))
    assert change.alert.level == "red"


async def test_ack_records_who_and_when_once(make_service: ServiceFactory, clock: Clock) -> None:
    service = await make_service(QUICK)
    await tick(service, 0, row("A"))
    [change] = await tick(service, 60, row("A"))
    acked = await service.ack(change.alert.id, by="oncall:zhang")
    clock.advance(60)
    again = await service.ack(change.alert.id, by="oncall:li")
    assert (acked.acked_by, acked.acked_at) == ("oncall:zhang", clock.now - timedelta(seconds=60))
    assert (again.acked_by, again.acked_at) == (acked.acked_by, acked.acked_at)
    assert [c.kind for c in await service.history(change.alert.id)] == [
        "pending",
        "firing",
        "acked",
    ]


async def test_ack_of_resolved_or_unknown_alert_is_refused(make_service: ServiceFactory) -> None:
    service = await make_service({"default_periods": {"pending_s": 0, "clear_s": 0}})
    [fired] = await tick(service, 0, row("A"))
    await tick(service, 60)
    with pytest.raises(AlertNotActiveError):
        await service.ack(fired.alert.id, by="oncall:zhang")
    with pytest.raises(AlertNotFoundError):
        await service.ack("no-such-id", by="oncall:zhang")


async def test_stream_delivers_changes_in_order_and_resumes(make_service: ServiceFactory) -> None:
    service = await make_service(QUICK)
    seen: list[AlertChange] = []

    async def follow() -> None:
        async for change in service.subscribe():
            seen.append(change)
            if len(seen) == 3:
                return

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.05)  # subscribed "from now"
    await tick(service, 0, row("A"))
    await tick(service, 60, row("A"))
    await tick(service, 61, row("A", "red"))
    await asyncio.wait_for(follower, timeout=5)
    assert [c.kind for c in seen] == ["pending", "firing", "level_changed"]
    resumed = service.subscribe(after_event_id=seen[0].event_id)
    assert [(await anext(resumed)).kind, (await anext(resumed)).kind] == ["firing", "level_changed"]
    await resumed.aclose()


async def test_stream_ends_when_the_service_closes(make_service: ServiceFactory) -> None:
    service = await make_service(QUICK)
    stream = service.subscribe()
    waiting = asyncio.create_task(anext(stream, None))
    await asyncio.sleep(0.05)
    await service.close()
    assert await asyncio.wait_for(waiting, timeout=5) is None


async def test_metrics_on_the_registry_given(sqlite_db: Database, clock: Clock) -> None:
    registry = CollectorRegistry()
    service = await AlertService.open(
        db=sqlite_db,
        config=AlertingConfig.from_mapping(QUICK),
        public_url="http://x",
        registry=registry,
        wall_clock=clock,
    )
    try:
        await tick(service, 0, row("A"), row("B", "red"))
        await tick(service, 60, row("A"), row("B", "red"))
        value = registry.get_sample_value
        assert (
            value("peakwatch_alerts", {"rule": "hub_overflow", "level": "red", "state": "firing"})
            == 1
        )
        assert (
            value("peakwatch_alert_transitions_total", {"rule": "hub_overflow", "to": "firing"})
            == 2
        )
        await service.deliver_due(wall_now=clock.advance(1))
        assert value("peakwatch_notification_outbox_pending") == 0
    finally:
        await service.close()


async def test_a_whole_lifecycle_on_each_store(
    make_service: ServiceFactory, store: Database, clock: Clock
) -> None:
    receiver = FakeReceiver()
    service = await make_service(HOOK, transport=receiver.transport(), db=store)
    await tick(service, 0, row("A", "yellow"), row("B"))
    await tick(service, 60, row("A", "yellow"), row("B"))
    await service.deliver_due(wall_now=clock.advance(1))
    [raised] = await tick(service, 90, row("A", "red"), row("B"))
    await service.ack(raised.alert.id, by="oncall:zhang")
    await tick(service, 120, row("B"))
    resolved = await tick(service, 240, row("B"))
    await service.deliver_due(wall_now=clock.advance(120))
    assert [c.kind for c in resolved] == ["resolved"]
    assert [c.kind for c in await service.history(raised.alert.id)] == [
        "pending",
        "firing",
        "level_changed",
        "acked",
        "resolved",
    ]
    page = await service.list_alerts(AlertQuery(states=("firing",)))
    assert [a.subject for a in page.alerts] == ["B"]
    kinds = sorted(
        (i["alert"]["subject"], i["kind"]) for b in receiver.bodies() for i in b["items"]
    )
    assert kinds == [("A", "firing"), ("A", "level_changed"), ("A", "resolved"), ("B", "firing")]
