"""Scenarios: when a run starts, how long it lasts, and what goes wrong in it.

    SCENARIOS                       name -> ScenarioSpec (default start, duration, what happens)
    build_scenario(name, net, ...)  the incidents of one run, with the hubs chosen by seed

Incidents act on the flow model through ``simulator.plan``:

    outbound_shortage    a hub's outbound vehicles carry ``factor`` of normal (departures collapse)
    departures_reduced   the same for every hub of a province (a snowstorm closes roads)
    outage               a hub stops sorting and reports nothing; traffic bound for it may be
                         rerouted to ``reroute_to`` (its neighbours then fill)
    feed_silent          a hub keeps working but its data feed stops
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
import polars as pl

from core.errors import ConfigError
from simulator.cities import NORTHERN_PROVINCES
from simulator.network import Network
from simulator.profile import BEIJING_TZ, epoch_minute

IncidentKind = Literal["outbound_shortage", "departures_reduced", "outage", "feed_silent"]
ScenarioName = Literal[
    "baseline", "double11", "hub_overflow", "snowstorm", "hub_outage", "cascade", "data_faults"
]


@dataclass(frozen=True)
class Incident:
    """Something going wrong from ``start_minute`` to ``end_minute`` (epoch minutes, None: on)."""

    kind: IncidentKind
    hubs: tuple[int, ...]  # row numbers in the registry
    start_minute: int
    end_minute: int | None
    factor: float = 1.0  # outbound vehicle capacity multiplier
    reroute_to: tuple[int, ...] = ()
    province: str | None = None

    def active(self, minute: int) -> bool:
        """Whether the incident holds during ``minute``."""
        return self.start_minute <= minute and (self.end_minute is None or minute < self.end_minute)


@dataclass(frozen=True)
class ScenarioSpec:
    """A scenario's defaults and a one-line description."""

    start: datetime
    duration: timedelta
    summary: str


@dataclass(frozen=True)
class Scenario:
    """One run: its name, time span (epoch minutes), incidents, and whether data faults apply."""

    name: str
    start_minute: int
    minutes: int
    incidents: tuple[Incident, ...]
    data_faults: bool = False


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING_TZ)


SCENARIOS: dict[str, ScenarioSpec] = {
    "baseline": ScenarioSpec(
        _at("2026-10-14T20:00"), timedelta(hours=12), "an ordinary autumn night, nothing wrong"
    ),
    "double11": ScenarioSpec(
        _at("2026-11-10T20:00"),
        timedelta(hours=36),
        "11.11 eve, the midnight surge and the day after; a key hub runs short of outbound "
        "trucks 20 min in, and a city hub's data feed drops 45 min in for half an hour",
    ),
    "hub_overflow": ScenarioSpec(
        _at("2026-11-11T18:00"),
        timedelta(hours=10),
        "outbound vehicle shortage at one key hub from 30 min in: departures collapse to 10 %",
    ),
    "snowstorm": ScenarioSpec(
        _at("2026-11-06T16:00"),
        timedelta(hours=14),
        "snow closes roads in one northern province for 8 h: its departures fall to a fifth",
    ),
    "hub_outage": ScenarioSpec(
        _at("2026-11-11T20:00"),
        timedelta(hours=8),
        "a key hub loses power 30 min in: it stops sorting and goes silent for 3 h",
    ),
    "cascade": ScenarioSpec(
        _at("2026-11-11T09:00"),
        timedelta(hours=12),
        "a national hub fails 30 min in; its collections, inbound trucks and lanes are diverted "
        "to its two nearest big hubs, which fill",
    ),
    "data_faults": ScenarioSpec(
        _at("2026-11-11T00:00"),
        timedelta(hours=2),
        "a calm 11.11 midnight sent with duplicates, late, malformed and future-stamped events",
    ),
}


def build_scenario(
    name: str,
    network: Network,
    *,
    seed: int,
    start: datetime | None = None,
    duration: timedelta | None = None,
) -> Scenario:
    """The incidents of scenario ``name`` on ``network``; hubs are chosen by ``seed``."""
    spec = SCENARIOS.get(name)
    if spec is None:
        raise ConfigError(f"scenario: must be one of {', '.join(SCENARIOS)}; got {name!r}")
    first = epoch_minute(start or spec.start)
    minutes = int((duration or spec.duration).total_seconds() // 60)
    if minutes < 1:
        raise ConfigError("duration: must be at least one minute")
    rng = np.random.default_rng([seed, 4])
    hubs = network.hubs.with_row_index("row")
    key_hub = _pick(hubs.filter(pl.col("tier") == "national", pl.col("key_node")), rng)
    incidents: tuple[Incident, ...] = ()
    if name == "double11":
        city_hub = _pick(hubs.filter(pl.col("tier") == "city"), rng)
        incidents = (
            Incident("outbound_shortage", (key_hub,), first + 20, first + 20 + 6 * 60, 0.1),
            Incident("feed_silent", (city_hub,), first + 45, first + 75),
        )
    elif name == "hub_overflow":
        incidents = (Incident("outbound_shortage", (key_hub,), first + 30, None, 0.1),)
    elif name == "snowstorm":
        province = _snowy_province(network)
        in_province = hubs.filter(pl.col("province") == province)["row"].to_list()
        incidents = (
            Incident(
                "departures_reduced",
                tuple(in_province),
                first + 60,
                first + 9 * 60,
                0.2,
                (),
                province,
            ),
        )
    elif name == "hub_outage":
        incidents = (Incident("outage", (key_hub,), first + 30, first + 30 + 3 * 60),)
    elif name == "cascade":
        failed = _biggest_national(hubs)
        neighbours = _neighbours(hubs, failed, 2)
        incidents = (Incident("outage", (failed,), first + 30, None, 1.0, neighbours),)
    return Scenario(name, first, minutes, incidents, data_faults=name == "data_faults")


def _pick(candidates: pl.DataFrame, rng: np.random.Generator) -> int:
    """One row number from ``candidates``, chosen by ``rng``."""
    rows = candidates["row"].to_list()
    return int(rows[int(rng.integers(len(rows)))])


def _snowy_province(network: Network) -> str:
    """The northern province with the most hub capacity (ties: table order)."""
    hubs = network.hubs.filter(pl.col("province").is_in(NORTHERN_PROVINCES))
    totals = hubs.group_by("province").agg(pl.col("sort_capacity_per_hour").sum())
    order = {province: i for i, province in enumerate(NORTHERN_PROVINCES)}
    ranked = sorted(totals.iter_rows(), key=lambda row: (-row[1], order[row[0]]))
    return str(ranked[0][0])


def _biggest_national(hubs: pl.DataFrame) -> int:
    """The national hub handling the most parcels."""
    national = hubs.filter(pl.col("tier") == "national")
    return int(national.sort("peak_daily_parcels", descending=True)["row"][0])


def _neighbours(hubs: pl.DataFrame, failed: int, count: int) -> tuple[int, ...]:
    """The nearest national (then regional) hubs of the failed hub's carrier."""
    row = hubs.row(failed, named=True)
    same = hubs.filter(
        pl.col("carrier") == row["carrier"],
        pl.col("row") != failed,
        pl.col("tier").is_in(["national", "regional"]),
    ).with_columns(
        rank=pl.when(pl.col("tier") == "national").then(0).otherwise(1),
        distance=(pl.col("lat") - row["lat"]) ** 2 + (pl.col("lon") - row["lon"]) ** 2,
    )
    return tuple(int(r) for r in same.sort("rank", "distance")["row"].head(count))
