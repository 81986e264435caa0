"""Helpers for the simulator tests: collect a run's events and replay a hub's backlog from them."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from simulator.simulation import Simulation


def run_events(simulation: Simulation) -> pl.DataFrame:
    """Every event of a run (EVENT_SCHEMA) plus ``sent``: the simulated minute it was sent in."""
    frames = [
        batch.events.with_columns(sent=pl.lit(batch.minute).cast(pl.Datetime("ms", "UTC")))
        for batch in simulation.batches()
    ]
    return pl.concat(frames)


def backlog_at(events: pl.DataFrame, hub_id: str, instant: datetime) -> int:
    """A hub's backlog at ``instant`` as a consumer would compute it from the events alone.

    The last ``backlog`` snapshot at or before the instant, plus arrivals, minus departures since.
    """
    hub = events.filter(pl.col("hub_id") == hub_id, pl.col("ts") <= instant)
    snapshot = hub.filter(pl.col("kind") == "backlog").sort("ts").tail(1)
    assert snapshot.height == 1, f"{hub_id} sent no backlog snapshot before {instant}"
    since = snapshot["ts"][0]
    flows = hub.filter(pl.col("ts") > since, pl.col("ts") < instant)
    arrived = flows.filter(pl.col("kind") == "arrival")["parcels"].sum()
    departed = flows.filter(pl.col("kind") == "departure")["parcels"].sum()
    return int(snapshot["parcels"][0] + arrived - departed)


def at(text: str) -> datetime:
    """An RFC 3339 label time as an aware datetime."""
    return datetime.fromisoformat(text)
