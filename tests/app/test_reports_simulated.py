"""The daily report of a simulated Double-11 evening (the suite's ``fed_service``: 3 h of the
double11 scenario, 60 hubs, seed 7, through Kafka and the service) against the simulator's own
ground truth: the same command writes the same events to a file and its labels, and the report's
totals, hourly curve and peak hour must match them exactly, with the scenario's incident hubs
where a regulator would look for them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from core.reports import BEIJING
from tests.support.service import Service, run_simulator, wait_for

SIMULATION = ["--scenario", "double11", "--hubs", "60", "--seed", "7", "--speed", "max"]
DAY = "2026-11-10"


@pytest.fixture(scope="module")
def truth(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The events the fed service was sent, and the run's labels."""
    tmp = tmp_path_factory.mktemp("truth")
    events, labels = tmp / "events.ndjson", tmp / "labels.json"
    run_simulator(
        *SIMULATION,
        "--duration", "3h",
        "--target", "ndjson",
        "--out", str(events),
        "--labels", str(labels),
    )  # fmt: skip
    frame = pl.read_ndjson(events, infer_schema_length=None)
    return frame, json.loads(Path(labels).read_text())


def _report(service: Service) -> dict[str, Any]:
    with service.client() as api:
        response = api.get("/v1/reports/daily", params={"date": DAY})
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.integration
def test_the_simulated_evening_s_report_matches_the_ground_truth(
    fed_service: Service, truth: tuple[pl.DataFrame, dict[str, Any]]
) -> None:
    events, labels = truth
    flows = events.filter(pl.col("kind") != "backlog").with_columns(
        pl.from_epoch("ts", time_unit="ms").dt.convert_time_zone(str(BEIJING)).dt.hour().alias("h")
    )
    arrivals = int(flows.filter(pl.col("kind") == "arrival")["parcels"].sum())
    departures = int(flows.filter(pl.col("kind") == "departure")["parcels"].sum())
    wait_for(
        lambda: _report(fed_service)["departures_total"] == departures,
        timeout_s=120,
        what="the evening's last hour in the report",
        describe=lambda: _report(fed_service)["hourly"],
    )
    report = _report(fed_service)
    assert (report["arrivals_total"], report["departures_total"]) == (arrivals, departures)
    by_hour = flows.group_by("h", "kind").agg(pl.col("parcels").sum())
    expected = {(h, k): int(p) for h, k, p in by_hour.iter_rows()}
    hourly = {int(r["hour"][:2]): r for r in report["hourly"]}
    for (hour, kind), parcels in expected.items():
        assert hourly[hour][f"{kind}s"] == parcels, (hour, kind)
    peak = max((p, h) for (h, k), p in expected.items() if k == "arrival")[1]
    assert report["peak_hour"] == f"{peak:02d}:00"
    # the scenario's incidents, where the regulator looks: the hub short of trucks is the one
    # closest to overflow, and the hub whose feed dropped is listed among the data gaps
    (shortage,) = (i["hub_ids"][0] for i in labels["incidents"] if i["kind"] == "outbound_shortage")
    (silent,) = (s["hub_id"] for s in labels["silences"])
    assert report["closest_to_overflow"][0]["hub_id"] == shortage
    gaps = {gap["hub_id"]: gap["silent_s"] for gap in report["silent_hubs"]}
    assert gaps[silent] >= 30 * 60
