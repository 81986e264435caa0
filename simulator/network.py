"""A synthetic national express network: hubs at real cities, tiers, capacities and lanes.

    build_network(size, seed)   the hub registry (core.registry.HUB_SCHEMA), deterministic
    build_model(size, seed)     the registry plus what the flow model needs (cached)

Calibration (docs/simulator.md): a hub's peak-day volume is drawn in its tier's published range;
its sorting capacity makes that volume 80-92 % of a day's sorting; its storage is sized from a
calm Double-11 run so that its busiest moment fills 60-75 % of it (and holds at least an hour
of its sorting).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import polars as pl

from core.errors import ConfigError
from core.registry import HUB_SCHEMA
from simulator.fluid import peak_backlog_fluid
from simulator.lanes import build_lanes
from simulator.model import FlowNetwork
from simulator.placement import CARRIERS, place_hubs
from simulator.profile import BEIJING_TZ, MINUTES_PER_DAY, SORT_HOURS_PER_DAY, epoch_minute

__all__ = ["CARRIERS", "Network", "build_model", "build_network"]

MIN_HUBS = 31
MAX_HUBS = 5_000

# Parcels handled on the peak day (11.11), by tier: (low, high), drawn log-uniformly.
PEAK_DAILY_PARCELS: dict[str, tuple[float, float]] = {
    "national": (1.2e6, 4.8e6),  # SF Hangzhou ~5 M/day, STO Shanghai ~3.2 M/day
    "regional": (0.8e6, 2.5e6),  # STO Chengdu 1.6-1.7 M at peak, Jinan 2.49 M peak
    "city": (0.3e6, 0.85e6),  # Chongqing 0.6-0.85 M per day
    "terminal": (0.05e6, 0.3e6),  # estimate
}
PEAK_SORT_UTILIZATION = (0.80, 0.92)  # peak-day volume / a day's sorting capacity (estimate)
PEAK_STORAGE_UTILIZATION = (0.60, 0.75)  # calm Double-11 peak backlog / storage (estimate)
MIN_STORAGE_SORT_HOURS = 1.0  # every site holds at least an hour of its sorting (estimate)
LINE_RATE_PER_HOUR = (14_000, 40_000)  # one automated sorting line
MIN_STORAGE_PARCELS = 2_000
CALIBRATION_START = datetime(2026, 11, 9, tzinfo=BEIJING_TZ)
CALIBRATION_DAYS = 6


@dataclass(frozen=True)
class Network:
    """The registry (``hubs``, HUB_SCHEMA first) with model columns, lanes and flow arrays.

    Extra hub columns: ``peak_daily_parcels``, ``collect_peak_per_day``, ``sorting_lines``.
    Lanes: ``from_hub``, ``to_hub``, ``distance_km``, ``transit_min``, ``share``.
    """

    hubs: pl.DataFrame
    lanes: pl.DataFrame
    flows: FlowNetwork

    def registry(self) -> pl.DataFrame:
        """The hub registry in ``core.registry.HUB_SCHEMA``."""
        return self.hubs.select(list(HUB_SCHEMA))


def build_network(size: int, seed: int) -> pl.DataFrame:
    """A registry of ``size`` hubs (31..5,000) in all 31 provinces; same inputs, same frame."""
    return build_model(size, seed).registry()


@lru_cache(maxsize=8)
def build_model(size: int, seed: int) -> Network:
    """The network of ``size`` hubs for ``seed``, with lanes and calibrated capacities."""
    if not MIN_HUBS <= size <= MAX_HUBS:
        raise ConfigError(
            f"hubs: must be from {MIN_HUBS} to {MAX_HUBS} (one per province at least)"
        )
    rng = np.random.default_rng([seed, 1])
    placed = place_hubs(size, rng)
    hubs = _size_hubs(placed, rng)
    lanes = build_lanes(hubs)
    share = lanes["share"].to_numpy()
    inflow = np.bincount(
        lanes["dst"].to_numpy(),
        weights=share * hubs["peak_daily_parcels"].to_numpy()[lanes["src"].to_numpy()],
        minlength=size,
    )
    hubs = hubs.with_columns(collect_peak_per_day=hubs["peak_daily_parcels"] - inflow)
    flows = FlowNetwork(
        collect_peak_per_day=hubs["collect_peak_per_day"].to_numpy(),
        throughput_peak_per_day=hubs["peak_daily_parcels"].to_numpy(),
        sort_capacity_per_hour=hubs["sort_capacity_per_hour"].to_numpy().astype(np.float64),
        lane_src=lanes["src"].to_numpy(),
        lane_dst=lanes["dst"].to_numpy(),
        lane_transit_min=lanes["transit_min"].to_numpy(),
        lane_share=share,
    )
    hubs = hubs.with_columns(storage_capacity=pl.Series(_storage(flows, rng), dtype=pl.Int64))
    ids = hubs["hub_id"]
    lane_frame = lanes.select(
        from_hub=ids.gather(lanes["src"]),
        to_hub=ids.gather(lanes["dst"]),
        distance_km="distance_km",
        transit_min="transit_min",
        share="share",
    )
    return Network(
        hubs=hubs.select(*HUB_SCHEMA, pl.exclude(*HUB_SCHEMA)), lanes=lane_frame, flows=flows
    )


def _size_hubs(placed: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Add peak-day volume, sorting capacity and lines, and key-node flags to placed hubs."""
    n = placed.height
    tiers = placed["tier"].cast(pl.String).to_numpy()
    weight = placed["parcel_weight"].to_numpy()
    # Bigger cities get bigger hubs: half the draw is the city's weight, half chance.
    size_rank = np.clip(np.log(weight / 0.1) / np.log(100.0), 0.0, 1.0)
    u = 0.5 * rng.random(n) + 0.5 * size_rank
    low = np.array([PEAK_DAILY_PARCELS[t][0] for t in tiers])
    high = np.array([PEAK_DAILY_PARCELS[t][1] for t in tiers])
    peak = np.rint(low * (high / low) ** u)
    utilization = rng.uniform(*PEAK_SORT_UTILIZATION, n)
    sort_per_hour = np.ceil(peak / (SORT_HOURS_PER_DAY * utilization) / 100) * 100
    line_rate = rng.uniform(*LINE_RATE_PER_HOUR, n)
    # As many lines as the drawn line rate needs, kept so that each runs at 14k-40k an hour.
    fewest = np.ceil(sort_per_hour / LINE_RATE_PER_HOUR[1])
    most = np.maximum(1, np.floor(sort_per_hour / LINE_RATE_PER_HOUR[0]))
    lines = np.clip(np.rint(sort_per_hour / line_rate), fewest, most)
    key = (tiers == "national") | ((tiers == "regional") & placed["capital"].to_numpy())
    return placed.with_columns(
        peak_daily_parcels=pl.Series(peak),
        sort_capacity_per_hour=pl.Series(sort_per_hour.astype(np.int64)),
        sorting_lines=pl.Series(lines.astype(np.int64)),
        key_node=pl.Series(key),
        storage_capacity=pl.lit(0, dtype=pl.Int64),
    )


def _storage(flows: FlowNetwork, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """Storage so that a calm Double-11's busiest moment fills 60-75 % of each hub.

    A hub whose backlog stays small still holds at least an hour of its sorting.
    """
    peak = peak_backlog_fluid(
        flows,
        start_minute=epoch_minute(CALIBRATION_START),
        minutes=CALIBRATION_DAYS * MINUTES_PER_DAY,
    )
    target = rng.uniform(*PEAK_STORAGE_UTILIZATION, peak.shape[0])
    floor = np.maximum(flows.sort_capacity_per_hour * MIN_STORAGE_SORT_HOURS, MIN_STORAGE_PARCELS)
    storage = np.ceil(np.maximum(peak / target, floor) / 1000) * 1000
    return np.asarray(storage, dtype=np.int64)
