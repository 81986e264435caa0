"""What a delivery pass reads of the alerts, on SQLite and PostgreSQL: which alerts it follows up
are acknowledged or still firing, whether the network alert fires, and firing alerts by id
(more ids than one ``IN (…)`` takes)."""

from __future__ import annotations

from dataclasses import replace

from alerts.model import Alert
from alerts.store import alert_states, repository
from storage.db import Database
from tests.alerts.factories import WALL0, alert


def hub(n: int, **changes: object) -> Alert:
    """A firing hub alert ``a<n>`` (unless ``changes`` say otherwise)."""
    return replace(
        alert(f"HUB-{n}"), **{"id": f"a{n}", "fingerprint": f"fp{n}", "state": "firing", **changes}
    )


async def stored(db: Database, alerts: list[Alert]) -> None:
    async with db.sessionmaker.begin() as session:
        await repository.write_alerts(
            session, inserts=alerts, updates=[], deletes=[], wall_now=WALL0
        )


async def test_acknowledged_and_still_firing_of_the_alerts_asked(store: Database) -> None:
    await stored(
        store,
        [
            hub(1),
            hub(2, acked_at=WALL0, acked_by="oncall"),
            hub(3, state="resolved", resolved_at=WALL0),
            hub(4, acked_at=WALL0, acked_by="oncall"),
        ],
    )
    async with store.sessionmaker() as session:
        acked, firing = await alert_states.acked_and_firing(session, {"a1", "a2", "a3", "nope"})
        assert await alert_states.acked_and_firing(session, set()) == (set(), set())
    assert acked == {"a2"}
    assert firing == {"a1", "a2"}


async def test_a_rule_fires_while_one_of_its_alerts_does(store: Database) -> None:
    network = replace(
        alert("CN", "red", rule="network_paralysis", scope="network"),
        id="net",
        fingerprint="fpnet",
        state="firing",
    )
    await stored(store, [hub(1), replace(network, state="resolved", resolved_at=WALL0)])
    async with store.sessionmaker() as session:
        assert not await alert_states.rule_firing(session, "network_paralysis")
        assert await alert_states.rule_firing(session, "hub_overflow")
    await stored(store, [replace(network, id="net2")])
    async with store.sessionmaker() as session:
        assert await alert_states.rule_firing(session, "network_paralysis")


async def test_firing_alerts_by_id_past_one_chunk(store: Database) -> None:
    count = alert_states.ID_CHUNK + 5
    await stored(store, [hub(n, state="firing" if n % 2 else "resolved") for n in range(count)])
    wanted = {f"a{n}" for n in range(count)}
    async with store.sessionmaker() as session:
        found = await alert_states.firing_alerts(session, wanted)
    assert sorted(a.id for a in found) == sorted(f"a{n}" for n in range(count) if n % 2)
