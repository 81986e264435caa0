"""Alert history queries, on SQLite and PostgreSQL: by state, time range, level, rule, scope,
province and carrier; newest first; keyset pages that neither skip nor repeat."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from alerts.model import Alert
from alerts.store import repository
from alerts.store.history import AlertQuery, query_alerts
from storage.db import Database
from tests.alerts.factories import T0, WALL0, alert


def history() -> list[Alert]:
    """Eight alerts over eight hours, of several rules, levels, provinces and carriers."""
    made = []
    for n in range(8):
        made.append(
            replace(
                alert(f"HUB-{n}", ("blue", "yellow", "orange", "red")[n % 4]),
                id=f"a{n}",
                fingerprint=f"fp{n}",
                carrier=("ZTO", "YTO")[n % 2],
                province=("浙江", "江苏", "广东")[n % 3],
                started_at=T0 + timedelta(hours=n),
                state="resolved" if n < 4 else "firing",
                resolved_at=T0 + timedelta(hours=n, minutes=30) if n < 4 else None,
            )
        )
    made.append(
        replace(
            alert("CN", "red", rule="network_paralysis", scope="network"),
            id="net",
            fingerprint="fpnet",
            carrier=None,
            province=None,
            hub_id=None,
            started_at=T0 + timedelta(hours=5, minutes=30),
        )
    )
    return made


@pytest.fixture
async def filled(store: Database) -> Database:
    async with store.sessionmaker.begin() as session:
        await repository.write_alerts(
            session, inserts=history(), updates=[], deletes=[], wall_now=WALL0
        )
    return store


async def ids(db: Database, **filters: object) -> list[str]:
    async with db.sessionmaker() as session:
        alerts, _ = await query_alerts(session, AlertQuery(**filters))  # type: ignore[arg-type]
    return [a.id for a in alerts]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["a7", "a6", "net", "a5", "a4", "a3", "a2", "a1", "a0"]),
        ({"states": ("resolved",)}, ["a3", "a2", "a1", "a0"]),
        ({"levels": ("red",)}, ["a7", "net", "a3"]),
        ({"rules": ("network_paralysis",)}, ["net"]),
        ({"scopes": ("hub",), "carriers": ("YTO",)}, ["a7", "a5", "a3", "a1"]),
        ({"provinces": ("浙江",)}, ["a6", "a3", "a0"]),
        ({"subject": "HUB-2"}, ["a2"]),
        # active at some moment between 01:45 and 03:10 after T0
        (
            {
                "since": T0 + timedelta(hours=1, minutes=45),
                "until": T0 + timedelta(hours=3, minutes=10),
            },
            ["a3", "a2"],
        ),
    ],
)
async def test_filters(filled: Database, filters: dict[str, object], expected: list[str]) -> None:
    assert await ids(filled, **filters) == expected


async def test_pages_cover_everything_once(filled: Database) -> None:
    seen: list[str] = []
    cursor = None
    async with filled.sessionmaker() as session:
        while True:
            page, cursor = await query_alerts(session, AlertQuery(limit=2, cursor=cursor))
            seen += [a.id for a in page]
            if cursor is None:
                break
    assert seen == await ids(filled)


async def test_a_foreign_cursor_is_refused(filled: Database) -> None:
    with pytest.raises(ValueError, match="cursor"):
        await ids(filled, cursor="bm90LWEtY3Vyc29y")


async def test_one_active_alert_per_fingerprint(filled: Database) -> None:
    duplicate = replace(history()[5], id="dup")
    with pytest.raises(IntegrityError):
        async with filled.sessionmaker.begin() as session:
            await repository.write_alerts(
                session, inserts=[duplicate], updates=[], deletes=[], wall_now=WALL0
            )


async def test_round_trip_keeps_every_field(filled: Database) -> None:
    async with filled.sessionmaker() as session:
        stored = await repository.get_alert(session, "a2")
    assert stored == history()[2]
