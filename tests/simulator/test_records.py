from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core.events import EVENT_SCHEMA, HubEvent, decode_batch
from core.registry import check_events
from simulator.records import encode_records
from simulator.simulation import generate
from tests.simulator.conftest import Run

CLEAN = ["baseline", "double11", "hub_overflow", "snowstorm", "hub_outage", "cascade"]


@pytest.mark.parametrize("name", CLEAN)
def test_clean_scenarios_decode_with_zero_rejects(name: str) -> None:
    simulation = generate(name, hubs=60, seed=3, duration=timedelta(minutes=30))
    for batch in simulation.batches():
        decoded = decode_batch(batch.records())
        valid, unknown = check_events(decoded.events, simulation.registry)

        assert decoded.rejects.is_empty()
        assert unknown.is_empty()
        assert_frame_equal(valid.drop("index"), batch.events)


def test_records_are_the_canonical_compact_json_of_each_event(
    scenario_run: Callable[[str], Run],
) -> None:
    _, events = scenario_run("double11")
    sample = events.drop("sent").gather_every(997)

    for record in encode_records(sample):
        assert HubEvent.model_validate(json.loads(record)).to_record() == record


def test_event_frames_have_the_schema_v1_columns(scenario_run: Callable[[str], Run]) -> None:
    _, events = scenario_run("baseline")

    assert events.drop("sent").schema == pl.Schema(EVENT_SCHEMA)


def test_event_ids_are_unique_per_carrier(scenario_run: Callable[[str], Run]) -> None:
    _, events = scenario_run("double11")

    assert events.select("carrier", "event_id").is_unique().all()


def test_every_departure_to_a_hub_arrives_there_after_the_lanes_transit(
    scenario_run: Callable[[str], Run],
) -> None:
    simulation, events = scenario_run("baseline")
    lanes = simulation.network.lanes.select("from_hub", "to_hub", "transit_min")
    departures = events.filter(pl.col("to_hub").is_not_null()).select(
        from_hub="hub_id", to_hub="to_hub", parcels="parcels", ts="ts"
    )
    arrivals = events.filter(pl.col("from_hub").is_not_null()).select(
        from_hub="from_hub", to_hub="hub_id", parcels="parcels", ts="ts"
    )
    expected = departures.join(lanes, on=["from_hub", "to_hub"]).with_columns(
        ts=pl.col("ts") + pl.duration(minutes=pl.col("transit_min"))
    )
    due = expected.filter(pl.col("ts") < simulation.end).drop("transit_min")

    matched = due.join(arrivals, on=["from_hub", "to_hub", "ts"], suffix="_in")
    assert matched.height == due.height
    assert (matched["parcels"] == matched["parcels_in"]).all()


def test_backlog_snapshots_come_every_five_minutes_from_every_hub(
    scenario_run: Callable[[str], Run],
) -> None:
    simulation, events = scenario_run("baseline")
    snapshots = events.filter(pl.col("kind") == "backlog")
    per_instant = snapshots.group_by("ts").agg(pl.len())

    assert snapshots["ts"].min() == simulation.start
    assert (snapshots["ts"].dt.minute() % 5 == 0).all()
    assert (per_instant["len"] == simulation.registry.height).all()
    assert per_instant.height == 3 * 60 // 5
