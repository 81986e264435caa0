"""From a scenario's incidents to what the flow model sees each minute.

ScenarioPlan(network, scenario)   .flows (with any contingency lanes), .controls(minute),
                                  .hidden(minute) (hubs that report nothing)
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from simulator.lanes import great_circle_km, transit_minutes
from simulator.model import Controls, FlowNetwork
from simulator.network import Network
from simulator.scenarios import Incident, Scenario

Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]


class ScenarioPlan:
    """Capacity factors, routing and silences in force at each minute of a scenario."""

    def __init__(self, network: Network, scenario: Scenario) -> None:
        self.incidents = scenario.incidents
        self.flows = _with_contingency_lanes(network, scenario.incidents)
        self._lane_of = {
            (int(s), int(d)): i
            for i, (s, d) in enumerate(zip(self.flows.lane_src, self.flows.lane_dst, strict=True))
        }
        self._controls: dict[tuple[int, ...], Controls] = {}
        self._hidden: dict[tuple[int, ...], Bools] = {}

    def controls(self, minute: int) -> Controls:
        """Controls in force during ``minute`` (the same object while nothing changes)."""
        active = self._active(minute)
        if active not in self._controls:
            self._controls[active] = self._build(active)
        return self._controls[active]

    def hidden(self, minute: int) -> Bools:
        """Hubs that send no events during ``minute`` (down or with a silent data feed)."""
        active = tuple(
            i for i in self._active(minute) if self.incidents[i].kind in ("outage", "feed_silent")
        )
        if active not in self._hidden:
            mask = np.zeros(self.flows.hub_count, dtype=np.bool_)
            for i in active:
                mask[list(self.incidents[i].hubs)] = True
            self._hidden[active] = mask
        return self._hidden[active]

    def _active(self, minute: int) -> tuple[int, ...]:
        return tuple(i for i, incident in enumerate(self.incidents) if incident.active(minute))

    def _build(self, active: tuple[int, ...]) -> Controls:
        sort_factor = np.ones(self.flows.hub_count)
        vehicle_factor = np.ones(self.flows.hub_count)
        share = self.flows.lane_share.copy()
        collect = self.flows.collect_peak_per_day.copy()
        arrival_dst = self.flows.lane_dst.copy()
        for incident in (self.incidents[i] for i in active):
            hubs = list(incident.hubs)
            if incident.kind in ("outbound_shortage", "departures_reduced"):
                vehicle_factor[hubs] *= incident.factor
            elif incident.kind == "outage":
                sort_factor[hubs] = 0.0
                if incident.reroute_to:
                    self._reroute(share, incident)
                    _divert(collect, arrival_dst, incident)
        return Controls(
            sort_factor=sort_factor,
            vehicle_factor=vehicle_factor,
            lane_share=share,
            collect_peak_per_day=collect,
            arrival_dst=arrival_dst,
        )

    def _reroute(self, share: npt.NDArray[np.float64], incident: Incident) -> None:
        """Move every lane's share bound for the failed hubs onto lanes to the neighbours."""
        failed = set(incident.hubs)
        for lane in np.flatnonzero(np.isin(self.flows.lane_dst, list(failed))):
            src = int(self.flows.lane_src[lane])
            targets = [t for t in incident.reroute_to if t != src]
            if src in failed or not targets:
                continue
            for target in targets:
                share[self._lane_of[(src, target)]] += share[lane] / len(targets)
            share[lane] = 0.0


def _divert(collect: npt.NDArray[np.float64], arrival_dst: Ints, incident: Incident) -> None:
    """Outlets and trucks already on the road go to the neighbours of the failed hubs instead."""
    targets = list(incident.reroute_to)
    for hub in incident.hubs:
        for target in targets:
            collect[target] += collect[hub] / len(targets)
        collect[hub] = 0.0
    bound = np.flatnonzero(np.isin(arrival_dst, list(incident.hubs)))
    arrival_dst[bound] = np.array(targets, dtype=np.int64)[np.arange(bound.shape[0]) % len(targets)]


def _with_contingency_lanes(network: Network, incidents: tuple[Incident, ...]) -> FlowNetwork:
    """The flow network plus zero-share lanes that reroutes need (sources to neighbours)."""
    flows = network.flows
    existing = set(zip(flows.lane_src.tolist(), flows.lane_dst.tolist(), strict=True))
    extra: set[tuple[int, int]] = set()
    for incident in incidents:
        failed = set(incident.hubs)
        for lane in np.flatnonzero(np.isin(flows.lane_dst, list(failed))):
            origin = int(flows.lane_src[lane])
            if origin not in failed:
                extra |= {(origin, t) for t in incident.reroute_to if t != origin} - existing
    if not extra:
        return flows
    src = np.concatenate([flows.lane_src, np.array([s for s, _ in sorted(extra)], dtype=np.int64)])
    dst = np.concatenate([flows.lane_dst, np.array([d for _, d in sorted(extra)], dtype=np.int64)])
    lat, lon = network.hubs["lat"].to_numpy(), network.hubs["lon"].to_numpy()
    transit = transit_minutes(great_circle_km(lat[src], lon[src], lat[dst], lon[dst]))
    share = np.concatenate([flows.lane_share, np.zeros(len(extra))])
    order = np.lexsort((dst, src))
    return replace(
        flows,
        lane_src=src[order],
        lane_dst=dst[order],
        lane_transit_min=transit[order],
        lane_share=share[order],
    )
