"""Ground truth of a run: which hubs overflow and when, which go silent and when.

    OverflowTracker(storage)    fold steps; .observe(step); .intervals(end_minute)
    silences(plan, scenario)    the silent windows of the scenario's incidents
    labels_document(...)        the JSON object written by ``--labels FILE``

A hub overflows (爆仓) while its backlog exceeds its ``storage_capacity``. The backlog after the
flows of minute ``m`` is the backlog at the instant ``m + 1``; so an overflow that starts during
minute ``m`` is labelled at ``m + 1`` (the first instant the hub holds more than it can).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from simulator.model import Step
from simulator.profile import BEIJING_TZ
from simulator.scenarios import Incident, Scenario

Ints = npt.NDArray[np.int64]


def rfc3339(minute: int) -> str:
    """An epoch minute as RFC 3339 in Beijing time (``2026-11-11T00:05:00+08:00``)."""
    moment = datetime.fromtimestamp(minute * 60, tz=UTC).astimezone(BEIJING_TZ)
    return moment.isoformat()


@dataclass
class _Open:
    start: int
    peak: int
    peak_at: int


@dataclass
class OverflowTracker:
    """Follows every hub's backlog against its storage and records the overflow intervals."""

    storage: Ints
    _open: dict[int, _Open] = field(default_factory=dict)
    _closed: list[tuple[int, int, int | None, int, int]] = field(default_factory=list)
    _started: bool = False

    def observe(self, step: Step) -> None:
        """Take one step's backlog (at its start on the first step, then after each minute)."""
        if not self._started:
            self._started = True
            self._update(step.minute, step.backlog_start)
        self._update(step.minute + 1, step.backlog_end)

    def _update(self, instant: int, backlog: Ints) -> None:
        over = np.flatnonzero(backlog > self.storage)
        for hub in over.tolist():
            value = int(backlog[hub])
            current = self._open.get(hub)
            if current is None:
                self._open[hub] = _Open(instant, value, instant)
            elif value > current.peak:
                current.peak, current.peak_at = value, instant
        for hub in [h for h in self._open if backlog[h] <= self.storage[h]]:
            done = self._open.pop(hub)
            self._closed.append((hub, done.start, instant, done.peak, done.peak_at))

    def intervals(self) -> list[tuple[int, int, int | None, int, int]]:
        """(hub, start, end or None while still over, peak backlog, peak instant), by start."""
        still = [(h, o.start, None, o.peak, o.peak_at) for h, o in self._open.items()]
        return sorted([*self._closed, *still], key=lambda row: (row[1], row[0]))


def silences(scenario: Scenario) -> list[tuple[int, Incident]]:
    """(hub, incident) for every hub that goes silent in the scenario."""
    return [
        (hub, incident)
        for incident in scenario.incidents
        if incident.kind in ("outage", "feed_silent")
        for hub in incident.hubs
    ]


def labels_document(
    *,
    scenario: Scenario,
    seed: int,
    hubs: pl.DataFrame,
    tracker: OverflowTracker,
    faults: dict[str, Any] | None,
) -> dict[str, Any]:
    """The ground-truth JSON object of a run (see docs/simulator.md for the fields)."""
    end = scenario.start_minute + scenario.minutes
    rows = hubs.select("hub_id", "carrier", "province", "tier", "key_node", "storage_capacity")

    def hub(row: int) -> dict[str, Any]:
        values = rows.row(row, named=True)
        values["tier"] = str(values["tier"])
        return values

    return {
        "scenario": scenario.name,
        "seed": seed,
        "hubs": hubs.height,
        "start": rfc3339(scenario.start_minute),
        "end": rfc3339(end),
        "incidents": [_incident(incident, rows) for incident in scenario.incidents],
        "overflows": [
            {
                **hub(row),
                "start": rfc3339(start),
                "end": None if stop is None else rfc3339(stop),
                "peak_backlog": peak,
                "peak_at": rfc3339(peak_at),
            }
            for row, start, stop, peak, peak_at in tracker.intervals()
        ],
        "silences": [
            {
                **hub(row),
                "start": rfc3339(incident.start_minute),
                "end": None
                if incident.end_minute is None or incident.end_minute >= end
                else rfc3339(incident.end_minute),
                "cause": incident.kind,
            }
            for row, incident in silences(scenario)
            if incident.start_minute < end
        ],
        "faults": faults,
    }


def _incident(incident: Incident, rows: pl.DataFrame) -> dict[str, Any]:
    ids = rows["hub_id"]
    return {
        "kind": incident.kind,
        "hub_ids": [ids[h] for h in incident.hubs],
        "province": incident.province,
        "start": rfc3339(incident.start_minute),
        "end": None if incident.end_minute is None else rfc3339(incident.end_minute),
        "vehicle_capacity_ratio": incident.factor,
        "rerouted_to": [ids[h] for h in incident.reroute_to],
    }
