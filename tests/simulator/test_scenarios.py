from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import polars as pl
import pytest

from core.errors import ConfigError
from simulator.network import build_model
from simulator.scenarios import SCENARIOS, build_scenario
from simulator.simulation import Simulation
from tests.simulator.conftest import DURATIONS, HUBS, SEED, Run
from tests.simulator.support import at, backlog_at, run_events


def _departures(events: pl.DataFrame, hubs: list[str], start: datetime, end: datetime) -> int:
    window = events.filter(
        pl.col("hub_id").is_in(hubs),
        pl.col("kind") == "departure",
        pl.col("ts") >= start,
        pl.col("ts") < end,
    )
    return int(window["parcels"].sum())


def test_baseline_has_no_overflow_and_no_silence(scenario_run: Callable[[str], Run]) -> None:
    simulation, _ = scenario_run("baseline")

    assert simulation.labels["overflows"] == []
    assert simulation.labels["silences"] == []


def test_hub_overflow_key_hub_crosses_its_capacity_at_the_labelled_time(
    scenario_run: Callable[[str], Run],
) -> None:
    simulation, events = scenario_run("hub_overflow")
    incident = simulation.labels["incidents"][0]
    hub_id = incident["hub_ids"][0]
    overflow = next(o for o in simulation.labels["overflows"] if o["hub_id"] == hub_id)
    crossed = at(overflow["start"])
    storage = overflow["storage_capacity"]
    shortage = at(incident["start"])
    snapshots = events.filter(pl.col("hub_id") == hub_id, pl.col("kind") == "backlog")
    first_over = snapshots.filter(pl.col("parcels") > storage)["ts"].min()

    assert overflow["key_node"] is True
    assert (
        backlog_at(events, hub_id, crossed)
        > storage
        >= backlog_at(events, hub_id, crossed - timedelta(minutes=1))
    )
    assert crossed <= first_over < crossed + timedelta(minutes=5)  # type: ignore[operator]
    before = _departures(events, [hub_id], shortage - timedelta(minutes=30), shortage)
    after = _departures(
        events, [hub_id], shortage + timedelta(minutes=30), shortage + timedelta(minutes=60)
    )
    assert after < 0.2 * before


def test_double11_goes_wrong_early_at_a_key_hub(scenario_run: Callable[[str], Run]) -> None:
    simulation, _ = scenario_run("double11")
    shortage, silent = simulation.labels["incidents"]
    overflowing = {o["hub_id"] for o in simulation.labels["overflows"]}

    assert at(shortage["start"]) - simulation.start == timedelta(minutes=20)
    assert shortage["hub_ids"][0] in overflowing
    assert [s["hub_id"] for s in simulation.labels["silences"]] == silent["hub_ids"]
    assert SCENARIOS["double11"].start.isoformat() == "2026-11-10T20:00:00+08:00"


def test_snowstorm_halves_the_provinces_departures() -> None:
    network = build_model(HUBS, SEED)
    scenario = build_scenario("snowstorm", network, seed=SEED, duration=DURATIONS["snowstorm"])
    calm = replace(scenario, incidents=())
    storm = scenario.incidents[0]
    hubs = network.hubs["hub_id"].gather(list(storm.hubs)).to_list()
    snowy = run_events(Simulation(scenario, network, SEED))
    clear = run_events(Simulation(calm, network, SEED))
    window = (
        Simulation(scenario, network, SEED).start + timedelta(hours=2),
        Simulation(scenario, network, SEED).start + timedelta(hours=8),
    )

    assert storm.province is not None
    assert network.hubs.filter(pl.col("province") == storm.province).height == len(hubs)
    assert _departures(snowy, hubs, *window) < 0.5 * _departures(clear, hubs, *window)


def test_hub_outage_silences_a_key_hub_that_then_comes_back(
    scenario_run: Callable[[str], Run],
) -> None:
    simulation, events = scenario_run("hub_outage")
    (silence,) = simulation.labels["silences"]
    hub = events.filter(pl.col("hub_id") == silence["hub_id"])

    assert silence["key_node"] is True
    assert at(silence["end"]) - at(silence["start"]) == timedelta(hours=3)
    assert hub.filter(pl.col("ts") >= at(silence["end"]))["kind"].n_unique() == 3


def test_cascade_a_failed_national_hubs_neighbours_fill(
    scenario_run: Callable[[str], Run],
) -> None:
    simulation, events = scenario_run("cascade")
    (incident,) = simulation.labels["incidents"]
    (silence,) = simulation.labels["silences"]
    overflowing = {o["hub_id"] for o in simulation.labels["overflows"]}
    failed_at = at(incident["start"])
    neighbours = incident["rerouted_to"]
    arrivals = events.filter(pl.col("hub_id").is_in(neighbours), pl.col("kind") == "arrival")
    diverted_from = failed_at + timedelta(hours=1)
    before_per_min = int(arrivals.filter(pl.col("ts") < failed_at)["parcels"].sum()) / 30
    after_minutes = (simulation.end - diverted_from).total_seconds() / 60
    after = int(arrivals.filter(pl.col("ts") >= diverted_from)["parcels"].sum())
    after_per_min = after / after_minutes

    assert silence["tier"] == "national"
    assert silence["end"] is None
    assert set(neighbours) <= overflowing
    assert after_per_min > 1.5 * before_per_min


def test_unknown_scenarios_and_empty_durations_are_refused() -> None:
    network = build_model(HUBS, SEED)
    with pytest.raises(ConfigError, match="scenario"):
        build_scenario("typhoon", network, seed=1)
    with pytest.raises(ConfigError, match="duration"):
        build_scenario("baseline", network, seed=1, duration=timedelta(seconds=30))
