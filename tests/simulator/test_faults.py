from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import polars as pl
import pytest

from core.events import decode_batch
from simulator.faults import LATE_DELAY_MIN, MALFORMED_REASONS
from simulator.simulation import Simulation
from tests.simulator.conftest import Run
from tests.simulator.support import run_events


@pytest.fixture(scope="module")
def faulty(scenario_run: Callable[[str], Run]) -> Run:
    return scenario_run("data_faults")


def test_malformed_records_are_exactly_the_rejects(faulty: Run) -> None:
    simulation, _ = faulty
    labels = simulation.labels["faults"]
    rejects = [decode_batch(batch.records()).rejects for batch in simulation.batches()]
    malformed = [record for batch in simulation.batches() for record in batch.malformed]

    assert sum(r.height for r in rejects) == labels["malformed"]["count"] == len(malformed) > 0
    assert set(labels["malformed"]["by_reason"]) == set(MALFORMED_REASONS)
    assert all(count > 0 for count in labels["malformed"]["by_reason"].values())


def test_duplicates_repeat_an_event_byte_for_byte(faulty: Run) -> None:
    simulation, events = faulty
    labels = simulation.labels["faults"]["duplicate"]
    repeated = events.filter(pl.struct("carrier", "event_id").is_duplicated())

    assert repeated.height == 2 * labels["count"] > 0
    assert set(repeated["event_id"]) == set(labels["event_ids"])
    assert repeated.drop("sent").unique().height == labels["count"]


def test_late_events_arrive_6_to_30_minutes_after_their_event_time(faulty: Run) -> None:
    simulation, events = faulty
    labels = simulation.labels["faults"]["late"]
    late_ids = set(labels["event_ids"])
    late = events.filter(pl.col("event_id").is_in(late_ids), pl.col("sent") < simulation.end)
    delay_min = ((late["sent"] - late["ts"]).dt.total_seconds() / 60).round(0)

    assert labels["count"] > 0
    assert delay_min.min() >= LATE_DELAY_MIN[0] - 1  # type: ignore[operator]
    assert delay_min.max() <= LATE_DELAY_MIN[1]  # type: ignore[operator]


def test_future_stamped_events_are_hours_ahead_of_the_senders_clock(faulty: Run) -> None:
    simulation, events = faulty
    labels = simulation.labels["faults"]["future"]
    ahead = events.filter(pl.col("ts") - pl.col("sent") > timedelta(hours=1))

    assert ahead.height == labels["count"] > 0
    assert set(ahead["event_id"]) == set(labels["event_ids"])


def test_faults_leave_the_flows_of_the_night_unchanged(faulty: Run) -> None:
    simulation, events = faulty
    calm = Simulation(replace(simulation.scenario, data_faults=False), simulation.network, 7)
    clean = run_events(calm).drop("sent").sort("carrier", "event_id")
    received = (
        events.filter(~pl.col("event_id").str.ends_with("-skew"))
        .drop("sent")
        .unique(["carrier", "event_id"])
        .sort("carrier", "event_id")
    )

    assert clean.equals(received)
