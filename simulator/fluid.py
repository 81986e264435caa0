"""Expected (non-random) flows at a coarse step: storage sizing and the warm-up of every run.

    peak_backlog_fluid(network, start_minute=, minutes=)   each hub's highest expected backlog
    warm_state(network, start_minute)                      backlog and lanes at a run's start

The same rules as ``simulator.flows`` (min of backlog + arrivals and sorting capacity; lanes
deliver after their transit time) on expected values, five minutes a step, under normal
operations. Two simulated days bring hubs and lanes from their average flows to the state the
season has put them in, at a small fraction of the cost of a minute-by-minute warm-up.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from simulator.model import FlowNetwork, InTransit
from simulator.profile import (
    MINUTES_PER_DAY,
    PEAK_LEVEL,
    collection_factors,
    daily_levels,
    sort_shares,
)

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

STEP_MIN = 5
WARMUP_MIN = 2 * MINUTES_PER_DAY


def peak_backlog_fluid(network: FlowNetwork, *, start_minute: int, minutes: int) -> Floats:
    """Each hub's highest expected backlog from ``start_minute`` for ``minutes`` (after warm-up)."""
    peak = np.zeros(network.hub_count)
    first_counted = WARMUP_MIN // STEP_MIN

    def track(step: int, backlog: Floats) -> None:
        if step >= first_counted:
            np.maximum(peak, backlog, out=peak)

    _run(network, start_minute - WARMUP_MIN, (WARMUP_MIN + minutes) // STEP_MIN, track)
    return peak


def warm_state(network: FlowNetwork, start_minute: int) -> tuple[Ints, InTransit]:
    """Backlog per hub and parcels on every lane (per minute of transit) at ``start_minute``."""
    steps = WARMUP_MIN // STEP_MIN
    backlog, lanes = _run(network, start_minute - WARMUP_MIN, steps, None)
    minutes = InTransit(network.lane_transit_min, np.zeros(network.lane_src.shape[0]))
    lane = minutes.lane_of_slot
    ahead = np.arange(lane.shape[0]) - minutes.offset[lane]  # minutes until arrival, per slot
    step_ahead = np.minimum(ahead // STEP_MIN, lanes.transit[lane] - 1)
    coarse = lanes.buffer[lanes.offset[lane] + (steps + step_ahead) % lanes.transit[lane]]
    position = minutes.offset[lane] + (start_minute + ahead) % minutes.transit[lane]
    minutes.buffer = np.zeros(lane.shape[0], dtype=np.int64)
    minutes.buffer[position] = np.rint(coarse / STEP_MIN).astype(np.int64)
    return np.rint(backlog).astype(np.int64), minutes


def _run(
    network: FlowNetwork,
    first_minute: int,
    steps: int,
    on_step: Callable[[int, Floats], None] | None,
) -> tuple[Floats, InTransit]:
    """Run expected flows from average lane loads; return the final backlog and lanes."""
    h = network.hub_count
    collect = collection_factors(first_minute, steps * STEP_MIN).reshape(steps, STEP_MIN).sum(1)
    shift = sort_shares(first_minute, steps * STEP_MIN).reshape(steps, STEP_MIN).sum(1)
    transit_steps = np.maximum(np.rint(network.lane_transit_min / STEP_MIN), 1).astype(np.int64)
    lanes = _loaded_lanes(network, first_minute, transit_steps)
    sort_per_min = network.sort_capacity_per_hour / 60.0
    backlog = np.zeros(h)
    for step in range(steps):
        arrived = np.bincount(network.lane_dst, weights=lanes.take(step), minlength=h)
        available = backlog + network.collect_peak_per_day * collect[step] + arrived
        departures = np.minimum(available, sort_per_min * shift[step])
        lanes.put(step, departures[network.lane_src] * network.lane_share)
        backlog = available - departures
        if on_step is not None:
            on_step(step, backlog)
    return backlog, lanes


def _loaded_lanes(network: FlowNetwork, first_minute: int, transit_steps: Ints) -> InTransit:
    """Lanes carrying what left each hub on average on the day each slot's parcels left."""
    lanes = InTransit(transit_steps, np.zeros(transit_steps.shape[0]))
    lane = lanes.lane_of_slot
    arrives_step = np.arange(lane.shape[0]) - lanes.offset[lane]  # slot s is taken at step s
    left_minute = first_minute + (arrives_step - lanes.transit[lane]) * STEP_MIN
    per_step = network.throughput_peak_per_day * STEP_MIN / MINUTES_PER_DAY
    lanes.buffer = per_step[network.lane_src][lane] * network.lane_share[lane]
    lanes.buffer *= daily_levels(left_minute) / PEAK_LEVEL
    return lanes
