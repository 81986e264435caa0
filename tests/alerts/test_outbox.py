"""The outbox on SQLite and PostgreSQL: rows leased by one deliverer at a time, a whole group
taken together, back-off that doubles up to a cap, giving up after the configured time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.config import OutboxSettings
from alerts.outbox import NewNotification, backoff_s, claim_due, enqueue, pending_count, retry_later
from alerts.store.db import Database
from tests.alerts.factories import WALL0, alert

SETTINGS = OutboxSettings(backoff_initial_s=5, backoff_max_s=60, give_up_after_s=3600, lease_s=120)


def note(subject: str, *, group: str = "g", wait_s: float = 0) -> NewNotification:
    return NewNotification(
        alert=alert(subject),
        kind="firing",
        receiver="hook",
        group_key=group,
        group_wait_s=wait_s,
        group_interval_s=60,
    )


@pytest.mark.parametrize(
    ("attempts", "delay_s"), [(1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (12, 60)]
)
def test_backoff_doubles_up_to_the_cap(attempts: int, delay_s: float) -> None:
    assert backoff_s(attempts, SETTINGS) == delay_s


async def test_a_lease_keeps_other_deliverers_off(store: Database) -> None:
    async with store.sessionmaker.begin() as session:
        await enqueue(session, [note("A"), note("B", group="h")], wall_now=WALL0)
    async with store.sessionmaker.begin() as session:
        first = await claim_due(session, wall_now=WALL0, settings=SETTINGS)
    async with store.sessionmaker.begin() as session:
        second = await claim_due(session, wall_now=WALL0 + timedelta(seconds=60), settings=SETTINGS)
    async with store.sessionmaker.begin() as session:  # the first deliverer died: lease ran out
        third = await claim_due(session, wall_now=WALL0 + timedelta(seconds=121), settings=SETTINGS)
    assert [i.alert.subject for i in first] == ["A", "B"]
    assert second == []
    assert [i.outbox_id for i in third] == [i.outbox_id for i in first]


async def test_a_due_group_takes_its_later_rows_along(store: Database) -> None:
    async with store.sessionmaker.begin() as session:
        await enqueue(session, [note("A", wait_s=30)], wall_now=WALL0)
        await enqueue(
            session,
            [note("B", wait_s=30), note("C", group="other", wait_s=30)],
            wall_now=WALL0 + timedelta(seconds=20),
        )
    async with store.sessionmaker.begin() as session:
        claimed = await claim_due(
            session, wall_now=WALL0 + timedelta(seconds=30), settings=SETTINGS
        )
    assert sorted(i.alert.subject for i in claimed) == ["A", "B"]


async def test_retry_later_then_give_up(store: Database) -> None:
    async with store.sessionmaker.begin() as session:
        await enqueue(session, [note("A")], wall_now=WALL0)
    async with store.sessionmaker.begin() as session:
        [row] = await claim_due(session, wall_now=WALL0, settings=SETTINGS)
        assert (
            await retry_later(session, [row], wall_now=WALL0, error="503", settings=SETTINGS) == []
        )
    async with store.sessionmaker.begin() as session:
        assert (
            await claim_due(session, wall_now=WALL0 + timedelta(seconds=4), settings=SETTINGS) == []
        )
        [again] = await claim_due(session, wall_now=WALL0 + timedelta(seconds=5), settings=SETTINGS)
        assert again.attempts == 1
        late = WALL0 + timedelta(hours=1)
        assert await retry_later(
            session, [again], wall_now=late, error="503", settings=SETTINGS
        ) == [row.outbox_id]
    async with store.sessionmaker() as session:
        assert await pending_count(session) == 0
