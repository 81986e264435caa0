"""Courier mitigations in the store (SQLite and PostgreSQL): declared, listed per carrier and
hub and time, ended with their effect, and the alert history's numbers an effect is judged on."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from alerts.measures import MitigationEffect, mitigation_effect
from alerts.model import AlertChange
from alerts.store.mitigations import (
    NewMitigation,
    add_mitigation,
    end_mitigation,
    get_mitigation,
    hub_samples,
    list_mitigations,
)
from alerts.store.repository import record_changes, write_alerts
from storage.db import Database
from tests.alerts.factories import T0, WALL0, alert

HOUR = timedelta(hours=1)


def _new(hub_id: str = "ZTO-HZ01", **changes: object) -> NewMitigation:
    base = NewMitigation(
        hub_id=hub_id,
        carrier=hub_id.split("-")[0],
        kind="throttle",
        starts_at=T0,
        planned_end_at=T0 + 4 * HOUR,
        expected_effect="进港量减少三成 / 30% fewer arrivals",
        note="夜班限流",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def test_a_declared_measure_reads_back_whole(store: Database) -> None:
    async with store.sessionmaker.begin() as session:
        made = await add_mitigation(session, _new(), declared_by="carrier:ZTO", wall_now=WALL0)
    async with store.sessionmaker() as session:
        found = await get_mitigation(session, made.id)
    assert found == made
    assert found is not None
    assert (found.kind, found.starts_at, found.note) == ("throttle", T0, "夜班限流")
    assert found.ended_at is None
    assert found.effect is None


async def test_a_carrier_reads_only_its_own_measures(store: Database) -> None:
    async with store.sessionmaker.begin() as session:
        zto = await add_mitigation(session, _new(), declared_by="carrier:ZTO", wall_now=WALL0)
        yto = await add_mitigation(
            session, _new("YTO-SH01"), declared_by="carrier:YTO", wall_now=WALL0
        )
    async with store.sessionmaker() as session:
        assert [m.id for m in await list_mitigations(session, carrier="ZTO")] == [zto.id]
        assert await get_mitigation(session, yto.id, carrier="ZTO") is None
        every = await list_mitigations(session)
    assert {m.id for m in every} == {zto.id, yto.id}


async def test_measures_of_a_page_of_hubs_in_force_during_a_range(store: Database) -> None:
    async with store.sessionmaker.begin() as session:
        early = await add_mitigation(
            session, _new(starts_at=T0 - 3 * HOUR), declared_by="carrier:ZTO", wall_now=WALL0
        )
        await end_mitigation(
            session,
            early.id,
            ended_at=T0 - 2 * HOUR,
            by="carrier:ZTO",
            effect=mitigation_effect([], starts_at=T0 - 3 * HOUR, ended_at=T0 - 2 * HOUR),
        )
        now = await add_mitigation(session, _new(), declared_by="carrier:ZTO", wall_now=WALL0)
        await add_mitigation(session, _new("ZTO-NB02"), declared_by="carrier:ZTO", wall_now=WALL0)
        await add_mitigation(  # never ended, but planned to end before the range
            session,
            _new(starts_at=T0 - 5 * HOUR, planned_end_at=T0 - 2 * HOUR),
            declared_by="carrier:ZTO",
            wall_now=WALL0,
        )
    async with store.sessionmaker() as session:
        found = await list_mitigations(
            session, hub_ids=["ZTO-HZ01"], since=T0 - HOUR, until=T0 + HOUR
        )
    assert [m.id for m in found] == [now.id]


async def test_ending_a_measure_keeps_its_effect(store: Database) -> None:
    effect = MitigationEffect(900.0, 200.0, 3600.0, None, True, True)
    async with store.sessionmaker.begin() as session:
        made = await add_mitigation(session, _new(), declared_by="carrier:ZTO", wall_now=WALL0)
        await end_mitigation(session, made.id, ended_at=T0 + HOUR, by="carrier:ZTO", effect=effect)
    async with store.sessionmaker() as session:
        ended = await get_mitigation(session, made.id)
    assert ended is not None
    assert (ended.ended_at, ended.ended_by, ended.effect) == (T0 + HOUR, "carrier:ZTO", effect)


async def test_ending_an_unknown_measure_finds_nothing(store: Database) -> None:
    effect = MitigationEffect(None, None, None, None, None, None)
    async with store.sessionmaker.begin() as session:
        assert await end_mitigation(session, 999, ended_at=T0, by="x", effect=effect) is None


async def test_the_hub_numbers_come_from_its_alert_history(store: Database) -> None:
    def numbers(inflow: float, eta: float) -> str:
        return json.dumps({"net_inflow_per_min": inflow, "time_to_overflow_s": eta})

    fired = alert("ZTO-HZ01", values_json=numbers(900.0, 3600.0))
    rose = replace(fired, level="red", values_json=numbers(1200.0, 1800.0))
    other = alert("ZTO-NB02", values_json=numbers(5.0, 99_999.0))
    async with store.sessionmaker.begin() as session:
        await write_alerts(session, inserts=[fired, other], updates=[], deletes=[], wall_now=WALL0)
        await record_changes(
            session,
            [AlertChange("firing", fired, T0), AlertChange("firing", other, T0)],
            wall_now=WALL0,
        )
        await record_changes(
            session, [AlertChange("level_changed", rose, T0 + HOUR)], wall_now=WALL0 + HOUR
        )
    async with store.sessionmaker() as session:
        samples = await hub_samples(session, "ZTO-HZ01", since=T0 - HOUR, until=T0 + 2 * HOUR)
    assert [(s.at, s.net_inflow_per_min, s.time_to_overflow_s) for s in samples] == [
        (T0, 900.0, 3600.0),
        (T0 + HOUR, 1200.0, 1800.0),
    ]
