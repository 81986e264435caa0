"""Incidents through the alerting service on each store (SQLite and a real PostgreSQL): a red
alert opens one with a first report due at the configured time, a level change adds a follow-up,
resolution the final report, a replay never opens a second, an overdue report escalates to the
leader on call exactly once, and a carrier sees only its own hubs' incidents."""

from __future__ import annotations

import json
from datetime import timedelta

from alerts.config import AlertingConfig
from alerts.duty import Shift
from alerts.evaluation.incidents import IncidentConfig
from alerts.service import AlertService
from alerts.store.duty import replace_roster
from alerts.store.incidents import list_incidents, submit_report
from storage.db import Database
from tests.alerts.conftest import ServiceFactory
from tests.alerts.factories import T0, WALL0, Clock, FakeReceiver, frame, row

VALUES = {"backlog": 12_000, "storage_capacity": 10_000, "departure_rate_per_min": 100}
AT_ONCE = {"pending_s": 0, "clear_s": 0}
CONFIG = {"default_periods": AT_ONCE, "periods": {"network_paralysis": AT_ONCE}}
LEADERS = [{"type": "webhook", "name": "leaders", "url": "http://leaders.example/in"}]
ROSTER = [
    Shift(
        person="王伟",
        role="duty",
        province="浙江",
        starts_at=T0 - timedelta(hours=1),
        ends_at=WALL0 + timedelta(days=1),
    ),
    Shift(
        person="周国栋",
        role="leader",
        province="CN",
        starts_at=T0 - timedelta(hours=1),
        ends_at=WALL0 + timedelta(days=1),
        email="zhou@post.example",
    ),
]


async def step(service: AlertService, seconds: int, *rows: dict[str, object]) -> None:
    await service.process(
        frame(*rows), now=T0 + timedelta(seconds=seconds), owned_hubs=None, evaluates_network=True
    )


def hub(level: str, subject: str = "ZTO-HZ-01", carrier: str = "ZTO") -> dict[str, object]:
    return row(subject, level, carrier=carrier, values=VALUES)


async def test_an_incident_runs_first_report_follow_up_final(
    make_service: ServiceFactory, store: Database, clock: Clock
) -> None:
    async with store.sessionmaker.begin() as session:
        await replace_roster(session, ROSTER, by="regulator:test", wall_now=clock.now)
    service = await make_service(CONFIG, db=store)
    clock.advance(600)  # the data arrives a little after its event time, as live
    await step(service, 0, hub("orange"))
    await step(service, 60, hub("red"))
    await step(service, 60, hub("red"))  # the same step again (a replay): nothing new
    await step(service, 120, hub("orange"))
    await step(service, 180)
    async with store.sessionmaker() as session:
        (incident,) = await list_incidents(session)
    assert (incident.opened_at, incident.state, incident.level) == (
        T0 + timedelta(seconds=60),
        "resolved",
        "orange",
    )
    assert [r.kind for r in incident.reports] == ["first", "follow_up", "final"]
    first = incident.reports[0]
    assert first.due_at == clock.now + timedelta(hours=1)  # the default deadline
    assert "处置负责人：王伟" in first.draft_text
    assert first.draft_fields["effect"]["hours_to_clear"] == 2.0
    assert incident.reports[2].due_at == clock.now + timedelta(days=1)


async def test_deadlines_come_from_the_config(store: Database, clock: Clock) -> None:
    service = await AlertService.open(
        db=store,
        config=AlertingConfig.from_mapping(CONFIG),
        public_url="https://peakwatch.example",
        wall_clock=clock,
        incidents=IncidentConfig(first_report_due_s=900),
    )
    try:
        await step(service, 0, hub("red"))
    finally:
        await service.close()
    async with store.sessionmaker() as session:
        (incident,) = await list_incidents(session)
    assert incident.reports[0].due_at == clock.now + timedelta(minutes=15)


async def test_an_overdue_report_escalates_to_the_leader_once(
    make_service: ServiceFactory, store: Database, clock: Clock
) -> None:
    async with store.sessionmaker.begin() as session:
        await replace_roster(session, ROSTER, by="regulator:test", wall_now=clock.now)
    receiver = FakeReceiver()
    late_step = [{"after_s": 30 * 86_400, "receivers": ["leaders"]}]  # the alert's own: far off
    routes = [{"receivers": ["leaders"], "group_wait_s": 0, "escalations": late_step}]
    service = await make_service(
        {**CONFIG, "receivers": LEADERS, "routes": routes}, transport=receiver.transport(), db=store
    )
    await step(service, 0, hub("red"))
    await service.deliver_due(wall_now=clock.advance(1))
    sent_before = len(receiver.requests)  # the red alert's own page
    await service.deliver_due(wall_now=clock.advance(1800))
    assert len(receiver.requests) == sent_before  # not yet due
    await service.deliver_due(wall_now=clock.advance(1800))
    await service.deliver_due(wall_now=clock.advance(60))
    await service.deliver_due(wall_now=clock.advance(60))
    async with store.sessionmaker() as session:
        (incident,) = await list_incidents(session)
    report = incident.reports[0]
    assert report.escalated_to is not None
    assert (report.escalated_to["person"], report.escalated_to["email"]) == (
        "周国栋",
        "zhou@post.example",
    )
    escalations = [
        item for body in receiver.bodies() for item in body["items"] if item["kind"] == "escalation"
    ]
    assert len(escalations) == 1  # four passes after the deadline, one message
    history = await service.history(incident.alert_id)
    overdue = [c for c in history if c.kind == "escalated" and "report overdue" in (c.actor or "")]
    assert len(overdue) == 1
    assert "leader 周国栋" in (overdue[0].actor or "")


async def test_a_submitted_report_is_not_escalated_and_the_final_one_closes(
    make_service: ServiceFactory, store: Database, clock: Clock
) -> None:
    service = await make_service(CONFIG, db=store)
    await step(service, 0, hub("red"))
    await step(service, 60)
    async with store.sessionmaker.begin() as session:
        (incident,) = await list_incidents(session)
        for report in incident.reports:
            await submit_report(
                session, report.id, text="已处置", fields={}, by="regulator:li", wall_now=clock.now
            )
    await service.deliver_due(wall_now=clock.advance(2 * 86_400))
    async with store.sessionmaker() as session:
        (incident,) = await list_incidents(session)
    assert incident.state == "closed"
    assert [r.escalated_at for r in incident.reports] == [None, None]
    assert [r.submitted_by for r in incident.reports] == ["regulator:li", "regulator:li"]


async def test_a_carrier_sees_only_its_own_hubs_incidents(
    make_service: ServiceFactory, store: Database
) -> None:
    service = await make_service(CONFIG, db=store)
    network = row(
        "CN", "orange", rule="network_paralysis", scope="network", values={"share_red_ratio": 0.3}
    )
    await step(service, 0, hub("red"), hub("red", "YTO-SH-01", "YTO"), network)
    async with store.sessionmaker() as session:
        everything = await list_incidents(session)
        zto = await list_incidents(session, carrier="ZTO")
    assert sorted(i.subject for i in everything) == ["CN", "YTO-SH-01", "ZTO-HZ-01"]
    assert [i.subject for i in zto] == ["ZTO-HZ-01"]
    assert (
        json.dumps([i.reports[0].draft_fields for i in zto], ensure_ascii=False).count("YTO") == 0
    )


async def test_report_deadlines_come_from_the_alerting_settings(
    make_service: ServiceFactory, store: Database, clock: Clock
) -> None:
    settings = {**CONFIG, "incidents": {"first_report_due_s": 1800, "opening_level": "orange"}}
    service = await make_service(settings, db=store)
    await step(service, 0, hub("orange"))  # orange opens one here
    async with store.sessionmaker() as session:
        (incident,) = await list_incidents(session)
    assert incident.reports[0].due_at == clock.now + timedelta(minutes=30)
