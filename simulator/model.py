"""The arrays the flow model runs on, what scenarios change, and what each step produces.

FlowNetwork     hubs 0..H-1 and lanes 0..L-1 as numpy arrays
Controls        capacity factors, lane shares, collections and unloading in force
Step            what happened at every hub and on every lane in one minute
InTransit       parcels on the road: one ring-buffer slot per step of each lane's transit
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


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


class InTransit:
    """In-transit parcels: one ring-buffer slot per step of each lane's transit time."""

    def __init__(self, transit_steps: Ints, fill: npt.NDArray[np.generic]) -> None:
        """Lanes of ``transit_steps`` each, every slot holding its lane's ``fill``."""
        self.transit = np.maximum(transit_steps, 1)
        self.offset = np.concatenate(([0], np.cumsum(self.transit)[:-1])).astype(np.int64)
        self.lane_of_slot = np.repeat(np.arange(self.transit.shape[0]), self.transit)
        self.buffer = fill[self.lane_of_slot].copy()

    def take(self, step: int) -> npt.NDArray[np.generic]:
        """What arrives at this step: what was put on each lane ``transit`` steps ago."""
        arriving: npt.NDArray[np.generic] = self.buffer[self.offset + step % self.transit]
        return arriving.copy()

    def put(self, step: int, departing: npt.NDArray[np.generic]) -> None:
        """Put this step's departures on the road (call after ``take`` of the same step)."""
        self.buffer[self.offset + step % self.transit] = departing
