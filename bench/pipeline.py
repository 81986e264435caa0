"""peakwatch's own pipeline in one process, timed: the service's ``Runtime`` (app/runtime.py).

    Kafka ─► consumers.HubEventConsumer (getmany → decode + engine.ingest + every event-time
             step the batch completes, in the worker thread; checkpoints every 10 s)
          ─► Runtime.on_steps: hub rules and province sums per step (core.evaluate) → sums on
             hub-status → network steps ready → AlertService.process_steps on SQLite (one
             transaction per run of steps) → hub rows → the API's snapshot
          ─► offsets committed

The only addition is a clock: ``TimedRuntime`` notes the wall time each step's alert decisions
were stored (hub alerts; province and network alerts), so that the benchmarks can tell when
every step of the data was decided and how long after its records were produced.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from prometheus_client import CollectorRegistry

from alerts.config import AlertingConfig
from alerts.evaluation.tick import StepSignals
from alerts.service import AlertService
from app.runtime import Runtime
from app.settings import Settings
from consumers.network_steps import NetworkStepper
from core.engine import StepResult
from storage.db import Database, open_database

Floats = npt.NDArray[np.float64]


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class TimedStepper(NetworkStepper):
    """The runtime's network step cursor, noting when each network step's decisions were
    stored (``done`` is called once they are)."""

    def __init__(self, stepper: NetworkStepper, decided: dict[int, float]) -> None:
        super().__init__(
            stepper.view,
            partitions=stepper.partitions,
            config=stepper.config,
            wait_s=stepper.wait_s,
        )
        self.decided = decided

    def done(self, decided: list[datetime]) -> None:
        now = time.time()
        for at in decided:
            self.decided.setdefault(_ms(at), now)
        super().done(decided)


class TimedRuntime(Runtime):
    """The service's runtime, noting when each step's decisions were stored (``time.time()``)."""

    def __init__(self, settings: Settings, registry: pl.DataFrame) -> None:
        super().__init__(settings, registry, CollectorRegistry())
        self.hub_decided: dict[int, float] = {}  # step (epoch ms) → wall s, hub alerts stored
        self.network_decided: dict[int, float] = {}  # the same for province / network alerts
        self.on_steps_s: list[float] = []  # wall time of each on_steps (one run of steps)
        self.steps_per_call: list[int] = []

    async def start(self) -> None:
        await super().start()
        # before any of its tasks has run (start returns without yielding after spawning them)
        if self.network_stepper is not None:
            self.network_stepper = TimedStepper(self.network_stepper, self.network_decided)

    async def on_steps(self, steps: list[StepResult], behind_s: float) -> None:
        started = time.perf_counter()
        await super().on_steps(steps, behind_s)
        self.on_steps_s.append(time.perf_counter() - started)
        self.steps_per_call.append(len(steps))

    async def decide(self, hub_steps: list[StepSignals], *, behind_s: float = 0.0) -> None:
        await super().decide(hub_steps, behind_s=behind_s)
        now = time.time()
        for step in hub_steps:
            self.hub_decided.setdefault(_ms(step.at), now)

    def decided_through(self) -> int | None:
        """The last step (epoch ms) whose hub and network decisions are both stored."""
        if not self.hub_decided or not self.network_decided:
            return None
        return min(max(self.hub_decided), max(self.network_decided))

    def missing_steps(self) -> int:
        """Steps between the first and the last decided that were never decided (must be 0)."""
        if not self.hub_decided:
            return 0
        step_ms = self.engine.step_ms
        first, last = min(self.hub_decided), max(self.hub_decided)
        expected = (last - first) // step_ms + 1
        return expected - len(self.hub_decided)


@dataclass
class Pipeline:
    """A started runtime with its own topics, group and SQLite store."""

    runtime: TimedRuntime
    database: Database
    alerts: AlertService
    started_at: float  # time.time() when the runtime was asked to start

    @property
    def consumer(self) -> Any:
        return self.runtime.consumer

    def applied(self) -> int:
        """Records applied so far (offsets moved on from the start of an empty topic)."""
        consumer = self.runtime.consumer
        return 0 if consumer is None else sum(consumer.next_offsets.values())

    async def close(self) -> None:
        """Checkpoint, leave the group, close the store (bounded)."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.runtime.close(), timeout=60)
        await self.alerts.close()
        await self.database.close()


async def open_pipeline(
    bootstrap: str,
    topic: str,
    registry: pl.DataFrame,
    workdir: Path,
    *,
    partitions: int,
    risk: dict[str, Any] | None = None,
) -> Pipeline:
    """The service's runtime on ``topic``: topics of its own (DLQ, status, checkpoints), a new
    group, alerts in a new SQLite file; started (consuming) when this returns."""
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        kafka_bootstrap=bootstrap,
        events_topic=topic,
        dlq_topic=f"{topic}-dlq-{suffix}",
        status_topic=f"{topic}-status-{suffix}",
        checkpoint_topic=f"{topic}-checkpoints-{suffix}",
        consumer_group=f"bench-{suffix}",
        events_partitions=partitions,
        db_url=f"sqlite+aiosqlite:///{workdir / f'bench-{suffix}.db'}",
        risk=risk or {},
    )
    runtime = TimedRuntime(settings, registry)
    database = await open_database(settings.db_url)
    alerts = await AlertService.open(
        db=database,
        config=AlertingConfig.from_mapping(settings.alerting),
        public_url="http://peakwatch.invalid",
        registry=runtime.metrics_registry,
    )
    runtime.alerts = alerts
    started_at = time.time()
    await runtime.start()
    return Pipeline(runtime, database, alerts, started_at)


def summary(values: Floats) -> dict[str, float]:
    """p50 / p99 / max of the samples (empty when there are none)."""
    if values.size == 0:
        return {}
    p50, p99 = np.percentile(values, [50, 99])
    return {"p50": float(p50), "p99": float(p99), "max": float(values.max())}
