"""一日一报 sent by itself (``[alerting.daily_report]``): when event time passes ``hour``:00
Beijing time of day D+1, D's report goes to the configured receivers, once.

    scheduler = ReportScheduler.from_settings(settings, silent_after_s=…)   # None: off
    scheduler.after_steps(first_step, last_step, db)   # Runtime.on_steps, partition 0's replica
    await scheduler.close()

In event time, like the alerts: a replay of old days sends their reports as the watermark passes
them (at most ``MAX_CATCH_UP_DAYS`` back). Each (day, province, receiver) is claimed in
``report_sends`` before it is sent, so a second replica, a restart or a replay sends nothing
again. Sending runs in a task of its own, each send bounded by ``SEND_TIMEOUT_S``: alerting
never waits for it. A send that may work later (timeout, 5xx, robot busy, database down) gives
its claim back and is tried again at a step ``RETRY_AFTER_S`` later; one that cannot (bad URL,
token or mailbox) is marked ``failed`` and logged. A day with no hourly rows at all (peakwatch
was not watching) is marked ``empty`` and not sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import httpx

from alerts.config import AlertingConfig, DailyReportSchedule
from alerts.notify.base import NotifyError
from alerts.store.report_sends import (
    SendKey,
    SendState,
    claim_send,
    finish_send,
    release_send,
)
from app.reports.daily import gather
from app.reports.model import DailyReport
from app.reports.send import send_report
from app.settings import Settings
from core.reports import BEIJING
from storage.db import Database

log = logging.getLogger(__name__)

MAX_CATCH_UP_DAYS = 7
RETRY_AFTER_S = 60.0
SEND_TIMEOUT_S = 120.0


def due_day(step: datetime, hour: int) -> date:
    """The newest day whose report is due at event time ``step``: day D's is due from
    ``hour``:00 Beijing time on D+1."""
    return (step.astimezone(BEIJING) - timedelta(hours=hour)).date() - timedelta(days=1)


def days_due(
    first: datetime, last: datetime, hour: int, *, after: date | None = None
) -> list[date]:
    """The days whose report fell due between the steps ``first`` and ``last`` (and since the
    day ``after``, the newest of an earlier call), oldest first, at most ``MAX_CATCH_UP_DAYS``."""
    newest = due_day(last, hour)
    oldest = due_day(first, hour)
    if after is not None:
        oldest = min(oldest, after + timedelta(days=1))
    oldest = max(oldest, newest - timedelta(days=MAX_CATCH_UP_DAYS - 1))
    return [oldest + timedelta(days=n) for n in range((newest - oldest).days + 1)]


def report_link(public_url: str, day: date, province: str | None) -> str:
    """The printable report of ``day`` in the API."""
    link = f"{public_url.rstrip('/')}/v1/reports/daily?date={day.isoformat()}&format=html"
    return link if province is None else f"{link}&province={quote(province)}"


class ReportScheduler:
    """Claims and sends the reports that fell due; remembers what is left to try again."""

    def __init__(
        self,
        config: AlertingConfig,
        *,
        public_url: str,
        silent_after_s: float,
        retry_after_s: float = RETRY_AFTER_S,
    ) -> None:
        self._config, self._public_url, self._silent_after_s = config, public_url, silent_after_s
        self._retry_after_s = retry_after_s
        self._todo: dict[SendKey, float] = {}  # → monotonic time from which to try it
        self._newest: date | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, silent_after_s: float) -> ReportScheduler | None:
        """The scheduler of the settings' ``alerting.daily_report``, or None when it is off."""
        config = AlertingConfig.from_mapping(settings.alerting)
        if not config.daily_report.enabled:
            return None
        return cls(config, public_url=settings.base_url, silent_after_s=silent_after_s)

    @property
    def schedule(self) -> DailyReportSchedule:
        """The configured schedule."""
        return self._config.daily_report

    def after_steps(self, first: datetime, last: datetime, db: Database) -> None:
        """Note the reports due by the steps ``first``…``last``; start sending unless a send
        is under way (what it leaves is taken at a later step). Never waits."""
        schedule = self.schedule
        days = days_due(first, last, schedule.hour, after=self._newest)
        fresh = [day for day in days if self._newest is None or day > self._newest]
        self._newest = fresh[-1] if fresh else self._newest
        for day in fresh:  # each day once per process; the claim makes it once in all
            for province in (None, *schedule.provinces):
                for receiver in schedule.receivers:
                    self._todo.setdefault(SendKey(day, province, receiver), 0.0)
        if self._task is not None and not self._task.done():
            return
        now = time.monotonic()
        ready = sorted(
            (key for key, at in self._todo.items() if at <= now),
            key=lambda k: (k.day, k.province or "", k.receiver),
        )
        if ready:
            self._task = asyncio.create_task(self._send_all(ready, db), name="daily report")

    async def idle(self) -> None:
        """Wait for the send under way, if any, to end."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def close(self) -> None:
        """Stop a send under way (its claims go stale and are taken again later)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _send_all(self, keys: list[SendKey], db: Database) -> None:
        reports: dict[tuple[date, str | None], list[SendKey]] = {}
        for key in keys:
            reports.setdefault((key.day, key.province), []).append(key)
        async with httpx.AsyncClient(follow_redirects=False) as client:
            for (day, province), wanted in reports.items():
                try:
                    await self._send_one(day, province, wanted, db, client)
                except Exception:  # the store is down, most likely: try again later
                    log.warning(
                        "daily report %s %s: not sent", day, province or "全国", exc_info=True
                    )
                    self._later(wanted)

    async def _send_one(
        self,
        day: date,
        province: str | None,
        wanted: list[SendKey],
        db: Database,
        client: httpx.AsyncClient,
    ) -> None:
        """Claim ``wanted`` (one report, several receivers), then gather and send it."""
        async with db.sessionmaker.begin() as session:
            claimed = [k for k in wanted if await claim_send(session, k, wall_now=_now())]
        for key in wanted:
            self._todo.pop(key, None)  # claimed elsewhere, or ours now: kept only on failure
        if not claimed:
            return
        try:
            report = await gather(
                db, day=day, province=province, carrier=None, silent_after_s=self._silent_after_s
            )
        except Exception:
            await self._release(claimed, db)
            raise
        if not report.hubs:
            await self._finish(claimed, db, state="empty")
            return
        for key in claimed:
            await self._deliver(key, report, db, client)

    async def _deliver(
        self, key: SendKey, report: DailyReport, db: Database, client: httpx.AsyncClient
    ) -> None:
        receiver = self._config.receiver(key.receiver)
        assert receiver is not None  # the config checks every name
        link = report_link(self._public_url, key.day, key.province)
        language = self._config.language_of(receiver)
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):
                await send_report(receiver, report, link=link, language=language, client=client)
        except (NotifyError, TimeoutError) as error:
            retryable = not isinstance(error, NotifyError) or error.retryable
            log.warning(
                "daily report %s %s to %s not sent (%s): %s",
                key.day,
                key.province or "全国",
                key.receiver,
                "trying again later" if retryable else "not tried again",
                error,
            )
            if retryable:
                await self._release([key], db)
                self._later([key])
            else:
                await self._finish([key], db, state="failed")
            return
        await self._finish([key], db, state="sent")
        log.info("daily report %s %s sent to %s", key.day, key.province or "全国", key.receiver)

    def _later(self, keys: list[SendKey]) -> None:
        for key in keys:
            self._todo[key] = time.monotonic() + self._retry_after_s

    @staticmethod
    async def _release(keys: list[SendKey], db: Database) -> None:
        async with db.sessionmaker.begin() as session:
            for key in keys:
                await release_send(session, key)

    @staticmethod
    async def _finish(keys: list[SendKey], db: Database, *, state: SendState) -> None:
        async with db.sessionmaker.begin() as session:
            for key in keys:
                await finish_send(session, key, state=state, wall_now=_now())


def _now() -> datetime:
    return datetime.now(UTC)
