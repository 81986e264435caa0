from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import polars as pl
import pytest

from tests.simulator.conftest import DURATIONS, Run
from tests.simulator.support import at, backlog_at

ONE_MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize("name", list(DURATIONS))
def test_each_labelled_overflow_is_what_the_events_show(
    scenario_run: Callable[[str], Run], name: str
) -> None:
    simulation, events = scenario_run(name)
    clean = events.filter(~pl.col("event_id").str.ends_with("-skew")).unique(
        ["carrier", "event_id"], keep="first", maintain_order=True
    )
    for overflow in simulation.labels["overflows"]:
        hub, start = overflow["hub_id"], at(overflow["start"])
        if start == simulation.start or _silent(simulation.labels, hub, start):
            continue  # over from the first minute, or nothing reported then
        storage = overflow["storage_capacity"]

        assert backlog_at(clean, hub, start) > storage
        assert backlog_at(clean, hub, start - ONE_MINUTE) <= storage


@pytest.mark.parametrize("name", list(DURATIONS))
def test_labelled_silences_have_no_events_and_reporting_resumes_after(
    scenario_run: Callable[[str], Run], name: str
) -> None:
    simulation, events = scenario_run(name)
    for silence in simulation.labels["silences"]:
        hub = events.filter(pl.col("hub_id") == silence["hub_id"])
        start = at(silence["start"])
        end = at(silence["end"]) if silence["end"] else simulation.end

        assert hub.filter(pl.col("ts") >= start, pl.col("ts") < end).is_empty()
        assert hub.filter(pl.col("ts") < start).height > 0
        if silence["end"]:
            assert hub.filter(pl.col("ts") == end, pl.col("kind") == "backlog").height == 1


@pytest.mark.parametrize("name", list(DURATIONS))
def test_labels_name_registered_hubs_and_the_runs_time_span(
    scenario_run: Callable[[str], Run], name: str
) -> None:
    simulation, _ = scenario_run(name)
    labels = simulation.labels
    hub_ids = set(simulation.registry["hub_id"])

    assert labels["scenario"] == name
    assert at(labels["start"]) == simulation.start
    assert at(labels["end"]) == simulation.end
    assert {o["hub_id"] for o in labels["overflows"]} <= hub_ids
    assert {s["hub_id"] for s in labels["silences"]} <= hub_ids
    for overflow in labels["overflows"]:
        assert overflow["peak_backlog"] > overflow["storage_capacity"]


def _silent(labels: dict[str, object], hub_id: str, instant: object) -> bool:
    silences = labels["silences"]
    assert isinstance(silences, list)
    return any(
        s["hub_id"] == hub_id
        and at(s["start"]) <= instant  # type: ignore[operator]
        and (s["end"] is None or instant < at(s["end"]))  # type: ignore[operator]
        for s in silences
    )
