"""Sending a simulation to a sink at a chosen speed, with a live progress line.

    stream(simulation, sink, speed=, max_events=, progress=)   -> StreamResult
    ProgressLine(scenario, out)     events/s, event time and firing alerts on one stderr line
    AlertPoller(url, api_key)       counts firing alerts from GET {url}/v1/alerts?state=firing,
                                    following the API's pages (``next_cursor``) to the last

Speed compresses event time: at speed 60 one simulated minute is sent per wall second; speed
``None`` sends as fast as the sink takes it. Batches are never dropped to keep up: a slow sink
makes the run late, and the progress line shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO

import httpx

from simulator.profile import BEIJING_TZ
from simulator.simulation import Simulation
from simulator.sinks import Sink

ALERT_POLL_INTERVAL_S = 5.0
ALERT_PAGE_SIZE = 100  # the API's default page (AlertPageOut: {alerts, next_cursor})
ALERT_MAX_PAGES = 100  # a bound: at most 10,000 alerts counted per poll
PROGRESS_INTERVAL_S = 0.5
PROGRESS_INTERVAL_PIPE_S = 10.0


@dataclass
class StreamResult:
    """What a run sent."""

    records: int = 0
    minutes: int = 0
    wall_s: float = 0.0
    last_minute: datetime | None = None
    stopped_by_limit: bool = False

    @property
    def records_per_s(self) -> float:
        """Average send rate over the run."""
        return self.records / self.wall_s if self.wall_s > 0 else 0.0


class AlertPoller:
    """Polls the service for the number of firing alerts every few seconds (best effort)."""

    def __init__(self, url: str, api_key: str, client: httpx.AsyncClient | None = None) -> None:
        self._url = f"{url.rstrip('/')}/v1/alerts"
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._client = client or httpx.AsyncClient(timeout=5.0)
        self.firing: int | None = None

    async def poll_once(self) -> int | None:
        """Ask once, page by page; keep the last answer when the service does not reply
        usefully (an error on any page leaves the last full count standing)."""
        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, TypeError):
            self.firing = await self._count_pages()
        return self.firing

    async def _count_pages(self) -> int:
        count, cursor = 0, None
        for _ in range(ALERT_MAX_PAGES):
            params = {"state": "firing", "limit": str(ALERT_PAGE_SIZE)}
            if cursor is not None:
                params["cursor"] = cursor
            response = await self._client.get(self._url, params=params, headers=self._headers)
            response.raise_for_status()
            page = response.json()
            count += len(page["alerts"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        return count

    async def run(self) -> None:
        """Poll until cancelled."""
        while True:
            await self.poll_once()
            await asyncio.sleep(ALERT_POLL_INTERVAL_S)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()


class ProgressLine:
    """One line on a terminal (rewritten in place) or a line every 10 s into a pipe or file."""

    def __init__(self, scenario: str, out: IO[str], poller: AlertPoller | None = None) -> None:
        self._scenario = scenario
        self._out = out
        self._poller = poller
        self._tty = out.isatty()
        self._interval_s = PROGRESS_INTERVAL_S if self._tty else PROGRESS_INTERVAL_PIPE_S
        self._last_s: float | None = None
        self._last_records = 0

    def update(self, result: StreamResult, now_s: float, *, final: bool = False) -> None:
        """Show progress if enough wall time has passed (always when ``final``)."""
        if self._last_s is None and not final:
            self._last_s, self._last_records = now_s, result.records
            return
        elapsed = now_s - (self._last_s or now_s)
        if not final and elapsed < self._interval_s:
            return
        rate = (result.records - self._last_records) / elapsed if elapsed > 0 else 0.0
        if final:
            rate = result.records_per_s
        self._last_s, self._last_records = now_s, result.records
        moment = result.last_minute.astimezone(BEIJING_TZ) if result.last_minute else None
        parts = [
            self._scenario,
            f"event time {moment:%Y-%m-%d %H:%M} +08:00" if moment else "event time -",
            f"{result.records:,} events",
            f"{rate:,.0f} events/s",
        ]
        if self._poller is not None:
            firing = self._poller.firing
            parts.append(f"alerts firing {'?' if firing is None else firing}")
        line = " | ".join(parts)
        if self._tty:
            self._out.write(f"\r\x1b[K{line}" + ("\n" if final else ""))
        else:
            self._out.write(line + "\n")
        self._out.flush()


async def stream(
    simulation: Simulation,
    sink: Sink,
    *,
    speed: float | None,
    max_events: int | None = None,
    progress: ProgressLine | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> StreamResult:
    """Send every batch of ``simulation`` to ``sink``, paced by ``speed``; return the totals."""
    result = StreamResult()
    began = clock()
    start = simulation.start
    try:
        for batch in simulation.batches():
            if max_events is not None and result.records + len(batch) > max_events:
                result.stopped_by_limit = True
                break
            if speed is not None:
                due = began + (batch.minute - start).total_seconds() / speed
                if due > clock():
                    await sleep(due - clock())
            result.records += await sink.send(batch)
            result.minutes += 1
            result.last_minute = batch.minute
            if progress is not None:
                progress.update(result, clock())
    finally:
        result.wall_s = clock() - began
        if progress is not None:
            with contextlib.suppress(Exception):
                progress.update(result, clock(), final=True)
    return result
