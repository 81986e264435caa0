"""Hourly rows of the daily report, written from the event-time steps (``Runtime.on_steps``).

Per step of a run: its hubs' states as rows (``core.reports.step_rows``, one select) folded
into the rows held since the last write (``fold_rows``: column-wise, no grouping). Counting
an hour's minutes is the costly part, so it is done only when the rows are written: when an
hour of event time completes, or every ``flush_every_s`` of event time, at most once per run
and with only the rows that changed. An hour is counted from the buckets of the last step that
saw it (the step that closes it), and the hour before the last step again (late events only
add), so a replay, a restart or another replica holding the same hubs writes the same rows,
and the upsert makes a second write harmless. Between writes the report reads ``live_rows``
(the held rows, counted on request).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import polars as pl
from sqlalchemy.exc import SQLAlchemyError

from alerts.store.reports import upsert_hours
from core.engine import StepResult
from core.reports import HOUR_MS, HOUR_SCHEMA, count_rows, fold_rows, merge_hours, step_rows
from core.state import BUCKET_SCHEMA
from storage.db import Database

log = logging.getLogger(__name__)

FLUSH_EVERY_S = 600.0
"""Event time between two writes within an hour (an hour's end always writes)."""


def _hour_of(step: datetime) -> int:
    """The hour (epoch ms of its start) whose end state a step describes."""
    return (int(step.timestamp() * 1000) - 1) // HOUR_MS * HOUR_MS


def _minutes(buckets_by_hour: dict[int, pl.DataFrame]) -> pl.DataFrame:
    """The buckets of each hour, each from its own frame (sorted by minute: slices)."""
    slices = [pl.DataFrame(schema=BUCKET_SCHEMA)]
    for hour_ms, buckets in buckets_by_hour.items():
        minute = buckets["minute"]
        first = int(minute.search_sorted(hour_ms // 60_000, side="left"))
        end = int(minute.search_sorted((hour_ms + HOUR_MS) // 60_000, side="left"))
        slices.append(buckets.slice(first, max(0, end - first)))
    return pl.concat(slices, rechunk=False)


class HourRecorder:
    """Holds the rows not yet written and writes them when due."""

    def __init__(self, *, flush_every_s: float = FLUSH_EVERY_S) -> None:
        self.flush_every_s = flush_every_s
        self.pending = pl.DataFrame(schema=HOUR_SCHEMA)
        self._buckets: dict[int, pl.DataFrame] = {}  # hour → the latest buckets that saw it
        self._written_at: datetime | None = None  # event time of the last write
        self._written = pl.Series("hash", [], pl.UInt64)  # hashes of the rows last written

    def due(self, steps: list[StepResult]) -> bool:
        """An hour closes in this run, or ``flush_every_s`` passed since the last write."""
        if self._written_at is None:
            return True
        if any(int(step.step.timestamp() * 1000) % HOUR_MS == 0 for step in steps):
            return True
        return (steps[-1].step - self._written_at).total_seconds() >= self.flush_every_s

    async def record(self, steps: list[StepResult], db: Database | None) -> None:
        """Fold a run of steps in; write the changed rows to ``db`` when due. A failed write
        is logged and the rows are kept for the next run (alerting goes on regardless)."""
        if not steps:
            return
        due = db is not None and self.due(steps)
        rows = await asyncio.to_thread(self._fold, steps, due)
        if db is None or rows is None:
            return
        hashes = rows.hash_rows()
        changed = rows.filter(~hashes.is_in(self._written.implode()))
        try:
            if changed.height:
                async with db.sessionmaker.begin() as session:
                    await upsert_hours(session, changed)
        except (SQLAlchemyError, OSError):
            log.warning(
                "daily report: %d hourly rows not stored yet", changed.height, exc_info=True
            )
            self.pending = rows  # every hour held until a write succeeds
            return
        self._written, self._written_at = hashes, steps[-1].step
        last = steps[-1]
        newest = _hour_of(last.step)
        if int(last.step.timestamp() * 1000) % HOUR_MS == 0:  # its hour closed: all written
            self.pending, self._buckets = rows.clear(), {}
        else:  # keep the open hour: its next steps fold into these rows
            start = datetime.fromtimestamp(newest / 1000, UTC)
            self.pending = rows.filter(pl.col("hour_start") == start)
            self._buckets = {newest: last.buckets}

    def _fold(self, steps: list[StepResult], count: bool) -> pl.DataFrame | None:
        """Fold the steps into ``pending``; when ``count``: every row held, counted."""
        last = steps[-1]
        owned = last.hubs_by_partition["hub_id"].implode()
        for step in steps:
            self._buckets[_hour_of(step.step)] = step.buckets
            states = step.hub_states.filter(pl.col("hub_id").is_in(owned))
            self.pending = fold_rows(self.pending, step_rows(states))
        if not count:
            return None
        self._buckets[_hour_of(last.step) - HOUR_MS] = last.buckets  # again: late events
        hubs = last.hub_states.filter(pl.col("hub_id").is_in(owned))
        counts = count_rows(_minutes(self._buckets), hubs)
        return merge_hours(pl.concat([self.pending, counts]))

    def live_rows(self, buckets: pl.DataFrame | None) -> pl.DataFrame:
        """The rows held now, counted from ``buckets`` (the last step's), for a report read
        before they are written."""
        pending = self.pending
        if pending.height == 0 or buckets is None:
            return pending
        hours = {int(h.timestamp() * 1000): buckets for h in pending["hour_start"].unique()}
        return merge_hours(pl.concat([pending, count_rows(_minutes(hours), pending)]))
