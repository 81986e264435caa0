"""One simulated run: the registry, the events minute by minute, and the ground truth.

generate(scenario, hubs=, seed=, start=, duration=) -> Simulation
Simulation.batches()     per-minute MinuteBatch (event frame + record bytes), deterministic
Simulation.labels        ground truth (JSON-ready dict), computed on first use
MinuteBatch.records()    the batch as Kafka record values (compact JSON, ts in epoch ms)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from simulator.faults import FaultInjector, MalformedRecord
from simulator.flows import run_flows
from simulator.labels import OverflowTracker, labels_document
from simulator.model import Step
from simulator.network import Network, build_model
from simulator.plan import ScenarioPlan
from simulator.profile import minute_datetime
from simulator.records import EventBuilder, encode_records
from simulator.scenarios import Scenario, build_scenario

BACKLOG_REPORT_EVERY_MIN = 5


@dataclass(frozen=True)
class MinuteBatch:
    """What is sent during one simulated minute.

    ``events`` holds the schema-v1 events (``core.events.EVENT_SCHEMA``) in send order;
    ``malformed`` holds extra records that break the schema (``data_faults`` only).
    """

    minute: datetime
    events: pl.DataFrame
    malformed: tuple[MalformedRecord, ...] = ()

    def __len__(self) -> int:
        return self.events.height + len(self.malformed)

    def records(self) -> list[bytes]:
        """Record values: the events encoded in one vectorised call, then the malformed ones."""
        return encode_records(self.events) + [record.value for record in self.malformed]

    def keys(self) -> list[bytes]:
        """Kafka keys (hub ids), one per record of ``records()``."""
        hub_ids: list[str] = self.events["hub_id"].to_list()
        return [hub.encode() for hub in hub_ids] + [record.key for record in self.malformed]


class Simulation:
    """A scenario on a network: same scenario, size and seed give the same bytes."""

    def __init__(self, scenario: Scenario, network: Network, seed: int) -> None:
        self.scenario = scenario
        self.network = network
        self.seed = seed

    @property
    def registry(self) -> pl.DataFrame:
        """The hub registry (``core.registry.HUB_SCHEMA``)."""
        return self.network.registry()

    @property
    def start(self) -> datetime:
        """The first simulated minute (UTC)."""
        return minute_datetime(self.scenario.start_minute)

    @property
    def end(self) -> datetime:
        """The instant the run ends (UTC)."""
        return minute_datetime(self.scenario.start_minute + self.scenario.minutes)

    def batches(self) -> Iterator[MinuteBatch]:
        """Every minute's batch in order (data faults may add one last batch at ``end``)."""
        return self._batches(None)

    @cached_property
    def labels(self) -> dict[str, Any]:
        """Ground truth: overflows, silences, incidents (and data faults) of this run."""
        tracker = OverflowTracker(self.network.hubs["storage_capacity"].to_numpy())
        faults: dict[str, Any] | None = None
        if self.scenario.data_faults:
            injector = FaultInjector(self.seed)
            for _ in self._batches(tracker, injector):
                pass
            faults = injector.summary()
        else:
            for step in self._steps(ScenarioPlan(self.network, self.scenario)):
                tracker.observe(step)
        return labels_document(
            scenario=self.scenario,
            seed=self.seed,
            hubs=self.network.hubs,
            tracker=tracker,
            faults=faults,
        )

    def write_labels(self, path: Path) -> None:
        """Write the ground truth as pretty JSON (UTF-8)."""
        path.write_text(json.dumps(self.labels, ensure_ascii=False, indent=2) + "\n", "utf-8")

    def write_hubs(self, path: Path) -> None:
        """Write the registry as JSON lines, the format of ``PEAKWATCH_HUBS_FILE``."""
        path.write_text(hubs_jsonl(self.registry), "utf-8")

    def _steps(self, plan: ScenarioPlan) -> Iterator[Step]:
        return run_flows(
            plan.flows,
            plan.controls,
            start_minute=self.scenario.start_minute,
            minutes=self.scenario.minutes,
            rng=np.random.default_rng([self.seed, 2]),
        )

    def _batches(
        self, tracker: OverflowTracker | None, injector: FaultInjector | None = None
    ) -> Iterator[MinuteBatch]:
        plan = ScenarioPlan(self.network, self.scenario)
        hubs = self.network.hubs
        builder = EventBuilder(
            hubs["hub_id"].to_list(),
            hubs["carrier"].to_list(),
            plan.flows.lane_src,
            plan.flows.lane_dst,
        )
        if injector is None and self.scenario.data_faults:
            injector = FaultInjector(self.seed)
        first = self.scenario.start_minute
        for step in self._steps(plan):
            if tracker is not None:
                tracker.observe(step)
            report = step.minute == first or step.minute % BACKLOG_REPORT_EVERY_MIN == 0
            events = builder.frame(step, plan.hidden(step.minute), report_backlog=report)
            malformed: list[MalformedRecord] = []
            if injector is not None:
                events, malformed = injector.apply(step.minute, events)
            yield MinuteBatch(minute_datetime(step.minute), events, tuple(malformed))
        if injector is not None:
            held = injector.flush()
            if held.height:
                yield MinuteBatch(self.end, held)


def generate(
    scenario: str,
    *,
    hubs: int,
    seed: int,
    start: datetime | None = None,
    duration: timedelta | None = None,
) -> Simulation:
    """A run of ``scenario`` on a network of ``hubs`` hubs; ``start``/``duration`` override."""
    network = build_model(hubs, seed)
    return Simulation(
        build_scenario(scenario, network, seed=seed, start=start, duration=duration), network, seed
    )


def hubs_jsonl(registry: pl.DataFrame) -> str:
    """The registry as JSON lines (one hub per line, UTF-8, Chinese names unescaped)."""
    rows = registry.with_columns(pl.col("tier").cast(pl.String)).to_dicts()
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
