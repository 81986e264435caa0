"""The flow model: parcels through hubs and along lanes, one minute (or step) at a time.

Per hub and minute, all hubs at once (numpy vectors, no loop per hub or event):

    arrivals   = collections (time profile x the hub's share) + lane arrivals (sent transit ago)
    departures = min(backlog + arrivals, sorting capacity now, outbound vehicle capacity now)
    backlog   <- backlog + arrivals - departures

Departures are split between the hub's outbound lanes (each lane keeps its share) and the last
mile; what leaves on a lane reaches the other end exactly ``transit`` minutes later, so every
departure with a ``to_hub`` has a matching arrival with a ``from_hub``. Scenarios change the
capacities and the lane shares through ``Controls``.

    FlowNetwork        the arrays the engine runs on
    Controls           capacity factors and lane shares in force (scenarios)
    Step               what happened in one step
    run_flows(...)     the steps of a run, after a warm-up that fills hubs and lanes
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from simulator.profile import MINUTES_PER_DAY, collection_factors, sort_shares

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

VEHICLE_HEADROOM_RATIO = 1.25
"""Outbound vehicles can carry this multiple of what the sorters put out (estimate)."""
WARMUP_MIN = 2 * MINUTES_PER_DAY


@dataclass(frozen=True)
class FlowNetwork:
    """Hubs 0..H-1 and lanes 0..L-1 as arrays; lanes are sorted by ``lane_src``."""

    collect_peak_per_day: Floats  # H: collections on the peak day (11.11)
    throughput_peak_per_day: Floats  # H: parcels handled on the peak day
    sort_capacity_per_hour: Floats  # H
    lane_src: Ints  # L
    lane_dst: Ints  # L
    lane_transit_min: Ints  # L
    lane_share: Floats  # L: share of the source's departures on this lane (normal routing)

    @property
    def hub_count(self) -> int:
        """Number of hubs."""
        return int(self.collect_peak_per_day.shape[0])


@dataclass(frozen=True)
class Controls:
    """What a scenario changes at one minute. Reuse the same object while nothing changes."""

    sort_factor: Floats  # H: x rated sorting capacity (0 = the hub is down)
    vehicle_factor: Floats  # H: x outbound vehicle capacity
    lane_share: Floats  # L: routing in force
    collect_peak_per_day: Floats  # H: where outlets bring parcels now (peak-day volume)
    arrival_dst: Ints  # L: where each lane's trucks unload now (diverted from a failed hub)


Plan = Callable[[int], Controls]
"""Controls in force at an epoch minute."""


def normal_plan(network: FlowNetwork) -> Plan:
    """A plan with full capacity and normal routing at every minute."""
    ones = np.ones(network.hub_count)
    controls = Controls(
        sort_factor=ones,
        vehicle_factor=ones,
        lane_share=network.lane_share,
        collect_peak_per_day=network.collect_peak_per_day,
        arrival_dst=network.lane_dst,
    )
    return lambda _minute: controls


@dataclass(frozen=True)
class Step:
    """One step: flows during ``[minute, minute + step_min)``; backlog at its start and end."""

    minute: int
    backlog_start: Ints  # H
    collected: Ints  # H: arrivals from outlets (no from_hub)
    lane_arrivals: Ints  # L: arrivals from lane_src at arrival_dst
    arrival_dst: Ints  # L: where lane arrivals unloaded (lane_dst unless diverted)
    lane_departures: Ints  # L: departures from lane_src to lane_dst
    delivered: Ints  # H: departures to the last mile (no to_hub)
    backlog_end: Ints  # H


class _LaneSplitter:
    """Splits each hub's departures between its lanes by conditional binomials, slot by slot."""

    def __init__(self, network: FlowNetwork) -> None:
        src = network.lane_src
        first = np.searchsorted(src, src, side="left")
        slot = np.arange(src.shape[0]) - first
        self._slots = [np.flatnonzero(slot == k) for k in range(int(slot.max(initial=-1)) + 1)]
        self._src = src
        self._hubs = network.hub_count

    def split(self, departures: Ints, share: Floats, rng: np.random.Generator) -> tuple[Ints, Ints]:
        """(departures per lane, departures to the last mile) summing exactly to ``departures``."""
        remaining = departures.copy()
        remaining_share = np.ones(self._hubs)
        per_lane = np.zeros(self._src.shape[0], dtype=np.int64)
        for lanes in self._slots:
            hubs = self._src[lanes]
            left = remaining_share[hubs]
            p = np.divide(share[lanes], left, out=np.ones_like(left), where=left > 1e-12)
            taken = rng.binomial(remaining[hubs], np.clip(p, 0.0, 1.0))
            per_lane[lanes] = taken
            remaining[hubs] -= taken
            remaining_share[hubs] = left - share[lanes]
        return per_lane, remaining


class _Lanes:
    """In-transit parcels: one ring-buffer slot per step of each lane's transit time."""

    def __init__(self, transit_steps: Ints, fill: npt.NDArray[np.generic]) -> None:
        self._transit = np.maximum(transit_steps, 1)
        self._offset = np.concatenate(([0], np.cumsum(self._transit)[:-1]))
        lane_of_slot = np.repeat(np.arange(self._transit.shape[0]), self._transit)
        self._buffer = fill[lane_of_slot].copy()

    def take(self, step: int) -> npt.NDArray[np.generic]:
        """What arrives at this step: what was put on each lane ``transit`` steps ago."""
        arriving: npt.NDArray[np.generic] = self._buffer[self._offset + step % self._transit]
        return arriving.copy()

    def put(self, step: int, departing: npt.NDArray[np.generic]) -> None:
        """Put this step's departures on the road (call after ``take`` of the same step)."""
        self._buffer[self._offset + step % self._transit] = departing


def run_flows(
    network: FlowNetwork,
    plan: Plan,
    *,
    start_minute: int,
    minutes: int,
    rng: np.random.Generator,
    warmup_min: int = WARMUP_MIN,
) -> Iterator[Step]:
    """Integer flows minute by minute: Poisson collections, binomial lane splits.

    Runs ``warmup_min`` minutes before ``start_minute`` under the normal plan without yielding,
    so hubs hold a realistic backlog and lanes carry parcels; then yields one ``Step`` per minute.
    The same ``rng`` state gives the same steps.
    """
    h = network.hub_count
    first = start_minute - warmup_min
    collect = collection_factors(first, warmup_min + minutes)
    sort_per_min = network.sort_capacity_per_hour / 60.0
    shift = sort_shares(first, warmup_min + minutes)
    splitter = _LaneSplitter(network)
    lanes = _Lanes(
        network.lane_transit_min, np.rint(_lane_fill(network, first, 1)).astype(np.int64)
    )
    backlog = np.zeros(h, dtype=np.int64)
    warm = normal_plan(network)
    for i in range(warmup_min + minutes):
        minute = first + i
        controls = warm(minute) if i < warmup_min else plan(minute)
        collected = rng.poisson(controls.collect_peak_per_day * collect[i])
        lane_arrivals = np.asarray(lanes.take(minute), dtype=np.int64)
        arrived = np.bincount(controls.arrival_dst, weights=lane_arrivals, minlength=h)
        available = backlog + collected + arrived.astype(np.int64)
        sort_cap = sort_per_min * shift[i]
        sortable = _stochastic_round(sort_cap * controls.sort_factor, rng)
        carriable = _stochastic_round(
            sort_cap * VEHICLE_HEADROOM_RATIO * controls.vehicle_factor, rng
        )
        departures = np.minimum(available, np.minimum(sortable, carriable))
        lane_departures, delivered = splitter.split(departures, controls.lane_share, rng)
        lanes.put(minute, lane_departures)
        backlog_end = available - departures
        if i >= warmup_min:
            yield Step(
                minute=minute,
                backlog_start=backlog,
                collected=collected,
                lane_arrivals=lane_arrivals,
                arrival_dst=controls.arrival_dst,
                lane_departures=lane_departures,
                delivered=delivered,
                backlog_end=backlog_end,
            )
        backlog = backlog_end


def peak_backlog_fluid(
    network: FlowNetwork,
    *,
    start_minute: int,
    minutes: int,
    step_min: int = 5,
    warmup_min: int = WARMUP_MIN,
) -> Floats:
    """Each hub's highest backlog over a run of expected (non-random) flows, normal plan.

    Used to size storage: a coarse step keeps it cheap for 3,000 hubs over a week.
    """
    h = network.hub_count
    steps = (warmup_min + minutes) // step_min
    first = start_minute - warmup_min
    collect = collection_factors(first, steps * step_min).reshape(steps, step_min).sum(axis=1)
    shift = sort_shares(first, steps * step_min).reshape(steps, step_min).sum(axis=1)
    transit_steps = np.maximum(np.rint(network.lane_transit_min / step_min), 1).astype(np.int64)
    lanes = _Lanes(transit_steps, _lane_fill(network, first, step_min))
    backlog = np.zeros(h)
    peak = np.zeros(h)
    for i in range(steps):
        arrived = np.bincount(network.lane_dst, weights=lanes.take(i), minlength=h)
        available = backlog + network.collect_peak_per_day * collect[i] + arrived
        sort_cap = network.sort_capacity_per_hour / 60.0 * shift[i]
        departures = np.minimum(available, sort_cap)
        lanes.put(i, departures[network.lane_src] * network.lane_share)
        backlog = available - departures
        if i * step_min >= warmup_min:
            peak = np.maximum(peak, backlog)
    return peak


def _lane_fill(network: FlowNetwork, minute: int, step_min: int) -> Floats:
    """Expected parcels per step on each lane at ``minute``: in transit when a run starts."""
    level = float(collection_factors(minute, MINUTES_PER_DAY).sum())
    per_step = network.throughput_peak_per_day[network.lane_src] * level * step_min
    return np.asarray(per_step * network.lane_share / MINUTES_PER_DAY, dtype=np.float64)


def _stochastic_round(values: Floats, rng: np.random.Generator) -> Ints:
    """Round down or up at random so that the expected integer equals the value."""
    return np.floor(values + rng.random(values.shape[0])).astype(np.int64)
