"""Claims of daily-report sends (``report_sends``) on SQLite and PostgreSQL: the first claim
wins, a second is refused until the first is given back, a claim left ``sending`` by a dead
process is taken again after ``STALE_CLAIM_S``, and a finished send is never claimed again."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from alerts.store.report_sends import (
    STALE_CLAIM_S,
    SendKey,
    claim_send,
    finish_send,
    release_send,
)
from storage.db import Database

NOW = datetime(2026, 11, 12, 0, 5, tzinfo=UTC)
NATION = SendKey(date(2026, 11, 11), None, "hook")
ZHEJIANG = SendKey(date(2026, 11, 11), "浙江", "hook")


async def _claim(store: Database, key: SendKey, at: datetime = NOW) -> bool:
    async with store.sessionmaker.begin() as session:
        return await claim_send(session, key, wall_now=at)


async def test_the_first_claim_wins_until_it_is_given_back(store: Database) -> None:
    assert await _claim(store, NATION)
    assert not await _claim(store, NATION)  # a second replica, a replay
    assert await _claim(store, ZHEJIANG)  # another report: its own claim
    async with store.sessionmaker.begin() as session:
        await release_send(session, NATION)
    assert await _claim(store, NATION)


async def test_a_stale_claim_is_taken_again_but_a_sent_report_never(store: Database) -> None:
    assert await _claim(store, NATION)
    later = NOW + timedelta(seconds=STALE_CLAIM_S + 1)
    assert not await _claim(store, NATION, NOW + timedelta(seconds=STALE_CLAIM_S - 1))
    assert await _claim(store, NATION, later)  # its sender died mid-send
    async with store.sessionmaker.begin() as session:
        await finish_send(session, NATION, state="sent", wall_now=later)
    assert not await _claim(store, NATION, later + timedelta(days=1))
