"""The outbox on SQLite and PostgreSQL: rows leased by one deliverer at a time (and renewed only
by it), a whole group taken together, a retried row due again at its time and a failed one never,
a follow-up recorded once however many replicas decide it."""

from __future__ import annotations

from datetime import timedelta

from alerts.config import OutboxSettings
from alerts.store.outbox import (
    NewNotification,
    NextAttempt,
    claim_due,
    enqueue,
    mark_failed,
    pending_count,
    renew,
    retry_at,
)
from storage.db import Database
from tests.alerts.factories import WALL0, alert

SETTINGS = OutboxSettings(backoff_initial_s=5, backoff_max_s=60, give_up_after_s=3600, lease_s=120)


def note(
    subject: str, *, group: str = "g", wait_s: float = 0, dedup_key: str | None = None
) -> NewNotification:
    return NewNotification(
        alert=alert(subject),
        kind="firing",
        receiver="hook",
        group_key=group,
        group_wait_s=wait_s,
        group_interval_s=60,
        dedup_key=dedup_key,
    )


async def test_a_lease_keeps_other_deliverers_off(store: Database) -> None:
    async with store.sessionmaker.begin() as session:
        await enqueue(session, [note("A"), note("B", group="h")], wall_now=WALL0)
    async with store.sessionmaker.begin() as session:
        first = await claim_due(session, wall_now=WALL0, settings=SETTINGS, claimant="a")
    async with store.sessionmaker.begin() as session:
        second = await claim_due(
            session, wall_now=WALL0 + timedelta(seconds=60), settings=SETTINGS, claimant="a"
        )
    async with store.sessionmaker.begin() as session:  # the first deliverer died: lease ran out
        third = await claim_due(
            session, wall_now=WALL0 + timedelta(seconds=121), settings=SETTINGS, claimant="a"
        )
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
            session, wall_now=WALL0 + timedelta(seconds=30), settings=SETTINGS, claimant="a"
        )
    assert sorted(i.alert.subject for i in claimed) == ["A", "B"]


async def test_a_retried_row_is_due_again_at_its_time_and_a_failed_one_never(
    store: Database,
) -> None:
    async with store.sessionmaker.begin() as session:
        await enqueue(session, [note("A")], wall_now=WALL0)
    async with store.sessionmaker.begin() as session:
        [row] = await claim_due(session, wall_now=WALL0, settings=SETTINGS, claimant="a")
        later = WALL0 + timedelta(seconds=5)
        await retry_at(session, [NextAttempt(row.outbox_id, attempts=1, at=later)], error="503")
    async with store.sessionmaker.begin() as session:
        early = later - timedelta(seconds=1)
        assert await claim_due(session, wall_now=early, settings=SETTINGS, claimant="b") == []
        [again] = await claim_due(session, wall_now=later, settings=SETTINGS, claimant="b")
        assert (again.outbox_id, again.attempts) == (row.outbox_id, 1)
        await mark_failed(session, [again.outbox_id], error="gave up")
    async with store.sessionmaker() as session:
        assert await pending_count(session) == 0


async def test_a_lease_is_renewed_only_by_the_pass_still_holding_it(store: Database) -> None:
    async with store.sessionmaker.begin() as session:
        await enqueue(session, [note("A"), note("B", group="h")], wall_now=WALL0)
    async with store.sessionmaker.begin() as session:
        slow = await claim_due(session, wall_now=WALL0, settings=SETTINGS, claimant="slow")
    ids = [i.outbox_id for i in slow]
    later = WALL0 + timedelta(seconds=60)
    async with store.sessionmaker.begin() as session:  # in time: the lease is extended
        assert await renew(session, ids, claimant="slow", wall_now=later, settings=SETTINGS)
    async with store.sessionmaker.begin() as session:  # 150 s < 60 + 120: still held
        assert (
            await claim_due(
                session, wall_now=WALL0 + timedelta(seconds=150), settings=SETTINGS, claimant="b"
            )
            == []
        )
    taken_at = WALL0 + timedelta(seconds=181)  # the renewed lease ran out: another pass takes one
    async with store.sessionmaker.begin() as session:
        [taken] = await claim_due(
            session,
            wall_now=taken_at,
            settings=SETTINGS.model_copy(update={"batch_limit": 1}),
            claimant="b",
        )
    async with store.sessionmaker.begin() as session:  # the slow pass may no longer send both
        assert not await renew(session, ids, claimant="slow", wall_now=taken_at, settings=SETTINGS)
    async with store.sessionmaker.begin() as session:  # its other row went back, free
        again = await claim_due(session, wall_now=taken_at, settings=SETTINGS, claimant="c")
        assert await renew(
            session, [taken.outbox_id], claimant="b", wall_now=taken_at, settings=SETTINGS
        )
    assert [i.outbox_id for i in again] == sorted(set(ids) - {taken.outbox_id})


async def test_a_follow_up_is_recorded_once(store: Database) -> None:
    async with store.sessionmaker.begin() as session:
        first = await enqueue(session, [note("A", dedup_key="after:1")], wall_now=WALL0)
    async with store.sessionmaker.begin() as session:  # a second replica decided the same
        second = await enqueue(session, [note("A", dedup_key="after:1"), note("B")], wall_now=WALL0)
    async with store.sessionmaker() as session:
        assert (first, second, await pending_count(session)) == (1, 1, 2)
