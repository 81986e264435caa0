"""peakwatch's own pipeline in one process, timed: the real consumer, engine and alert decisions.

    Kafka ─► consumers.HubEventConsumer (getmany → process_batch in a worker thread → commit,
             checkpoints every 10 s) ─► every tick_s of wall time, as app/runtime.py does:
             engine.hub_states() + engine.evaluate() + core network rules ─► alerts.lifecycle.decide

What is left out of app/runtime.py's tick: publishing hub-status and the alert store's
transaction (SQLite), which are I/O, not the pipeline. Two clocks are kept per record:
applied (the batch's state update returned) and decided (the end of the first tick that read the
state after that). Latencies are measured from the Kafka record timestamp (producer create time).
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from prometheus_client import CollectorRegistry

from alerts.config import AlertingConfig
from alerts.lifecycle import decide
from alerts.model import Alert
from alerts.tick import signals_by_fingerprint
from consumers.batch import BatchOutcome
from consumers.consumer import HubEventConsumer
from consumers.metrics import PipelineMetrics
from consumers.topics import TopicNames, ensure_topics
from core.engine import Engine, network_signals

Floats = npt.NDArray[np.float64]


class TimedConsumer(HubEventConsumer):
    """The real consumer, noting when each batch's state update finished."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.records_done = 0
        self.first_records_at: float | None = None
        self.applied_ms: list[Floats] = []  # per batch: applied wall ms − record timestamp
        self.pending: list[tuple[float, npt.NDArray[np.int64]]] = []  # (applied wall s, ts ms)
        self.done = asyncio.Event()
        self.expect = 0

    async def _apply(self, records: list[Any]) -> BatchOutcome:
        if self.first_records_at is None:
            self.first_records_at = time.perf_counter()
        outcome = await super()._apply(records)
        applied_s = time.time()
        stamps = np.fromiter((r.timestamp for r in records), dtype=np.int64, count=len(records))
        self.applied_ms.append((applied_s * 1000 - stamps).astype(np.float64))
        self.pending.append((applied_s, stamps))
        self.records_done += len(records)
        if self.expect and self.records_done >= self.expect:
            self.done.set()
        return outcome


@dataclass
class Pipeline:
    """The consumer plus the evaluation tick and the alert decisions."""

    consumer: TimedConsumer
    engine: Engine
    tick_s: float
    config: AlertingConfig = field(default_factory=AlertingConfig)
    alerts: dict[str, Alert] = field(default_factory=dict)
    tick_durations_s: list[float] = field(default_factory=list)
    decided_ms: list[Floats] = field(default_factory=list)
    transitions: int = 0
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    async def tick(self) -> None:
        """One evaluation tick, as app/runtime.py runs it (without hub-status and the store)."""
        consumer, engine = self.consumer, self.engine
        started = time.perf_counter()
        async with consumer.lock:
            read_at = time.time()
            states = await asyncio.to_thread(engine.hub_states)
            hub_signals = await asyncio.to_thread(engine.evaluate)
            watermark = engine.watermark()
        if watermark is not None:
            network = network_signals(states, at=watermark, config=engine.config)
            decision = decide(
                self.alerts,
                signals_by_fingerprint(pl.concat([hub_signals, network])),
                now=watermark,
                periods=self.config.periods_for,
                authoritative=lambda scope, subject: True,
                new_id=lambda: f"a{next(self._ids)}",
            )
            for alert in decision.inserts + decision.updates:
                self.alerts[alert.fingerprint] = alert
            gone = set(decision.deletes)
            self.alerts = {k: a for k, a in self.alerts.items() if a.id not in gone}
            self.transitions += len(decision.changes)
        decided_s = time.time()
        self.tick_durations_s.append(time.perf_counter() - started)
        seen = [p for p in consumer.pending if p[0] <= read_at]
        consumer.pending = [p for p in consumer.pending if p[0] > read_at]
        for _, stamps in seen:
            self.decided_ms.append((decided_s * 1000 - stamps).astype(np.float64))

    async def ticking(self) -> None:
        """Tick every ``tick_s`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.tick_s)
            await self.tick()


async def open_pipeline(
    bootstrap: str, topic: str, registry: pl.DataFrame, *, tick_s: float, partitions: int
) -> Pipeline:
    """Topics of its own (DLQ, status, checkpoints), a new group, the consumer started."""
    suffix = uuid.uuid4().hex[:8]
    topics = TopicNames(
        events=topic,
        dlq=f"{topic}-dlq-{suffix}",
        status=f"{topic}-status-{suffix}",
        checkpoints=f"{topic}-checkpoints-{suffix}",
    )
    await ensure_topics(bootstrap, topics, partitions=partitions)
    engine = Engine(registry)
    consumer = TimedConsumer(
        bootstrap=bootstrap,
        topics=topics,
        group=f"bench-{suffix}",
        engine=engine,
        registry=lambda: registry,
        metrics=PipelineMetrics(CollectorRegistry()),
    )
    await consumer.start()
    return Pipeline(consumer, engine, tick_s)


def latency_summary(chunks: list[Floats]) -> dict[str, float]:
    """p50 / p99 / max in ms of the concatenated samples."""
    if not chunks:
        return {}
    values = np.concatenate(chunks)
    if values.size == 0:
        return {}
    p50, p99 = np.percentile(values, [50, 99])
    return {"p50_ms": float(p50), "p99_ms": float(p99), "max_ms": float(values.max())}
