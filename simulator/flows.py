"""The flow model: parcels through hubs and along lanes, one minute at a time.

Per hub and minute, all hubs at once (numpy vectors, no loop per hub or event):

    arrivals   = collections (time profile x the hub's share) + lane arrivals (sent transit ago)
    departures = min(backlog + arrivals, sorting capacity now, outbound vehicle capacity now)
    backlog   <- backlog + arrivals - departures

Departures are split between the hub's outbound lanes (each lane keeps its share) and the last
mile; what leaves on a lane reaches the other end exactly ``transit`` minutes later, so every
departure with a ``to_hub`` has a matching arrival with a ``from_hub``. Scenarios change the
capacities, shares and destinations through ``Controls`` (``simulator.plan``).

    run_flows(network, plan, start_minute=, minutes=, rng=)   the steps of a run
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from simulator.fluid import warm_state
from simulator.model import FlowNetwork, Plan, Step
from simulator.profile import collection_factors, sort_shares

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

VEHICLE_HEADROOM_RATIO = 1.25
"""Outbound vehicles can carry this multiple of what the sorters put out (estimate)."""


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


def run_flows(
    network: FlowNetwork, plan: Plan, *, start_minute: int, minutes: int, rng: np.random.Generator
) -> Iterator[Step]:
    """Integer flows minute by minute: Poisson collections, binomial lane splits.

    Hubs and lanes start in the state two days of expected flows leave them in
    (``simulator.fluid.warm_state``); the same ``rng`` state gives the same steps.
    """
    h = network.hub_count
    collect = collection_factors(start_minute, minutes)
    shift = sort_shares(start_minute, minutes)
    sort_per_min = network.sort_capacity_per_hour / 60.0
    splitter = _LaneSplitter(network)
    backlog, lanes = warm_state(network, start_minute)
    for i in range(minutes):
        minute = start_minute + i
        controls = plan(minute)
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


def _stochastic_round(values: Floats, rng: np.random.Generator) -> Ints:
    """Round down or up at random so that the expected integer equals the value."""
    return np.floor(values + rng.random(values.shape[0])).astype(np.int64)
