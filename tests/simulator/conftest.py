"""Runs shared by the simulator tests: each scenario is generated once per session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import polars as pl
import pytest

from simulator.simulation import Simulation, generate
from tests.simulator.support import run_events

HUBS = 120
SEED = 7
# Long enough for each scenario's incident to play out, short enough for a unit test.
DURATIONS = {
    "baseline": timedelta(hours=3),
    "double11": timedelta(hours=6),
    "hub_overflow": timedelta(hours=6),
    "snowstorm": timedelta(hours=8),
    "hub_outage": timedelta(hours=5),
    "cascade": timedelta(hours=5),
    "data_faults": timedelta(minutes=40),
}

Run = tuple[Simulation, pl.DataFrame]


@pytest.fixture(scope="session")
def scenario_run() -> Callable[[str], Run]:
    """``scenario_run(name)``: the simulation and all its events (``sent`` added), cached."""
    cache: dict[str, Run] = {}

    def run(name: str) -> Run:
        if name not in cache:
            simulation = generate(name, hubs=HUBS, seed=SEED, duration=DURATIONS[name])
            cache[name] = (simulation, run_events(simulation))
        return cache[name]

    return run
