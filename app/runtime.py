"""What one service process holds while it runs, and the background tasks that keep it current.

Runtime.open(settings)     topics, producer, consumer group, network view, alert store
tasks: consume            consumers.HubEventConsumer.run — the engine's one owner: each batch,
                          then every event-time step it completes → ``on_steps``:
                          rules (hub; province and network on the replica holding partition 0)
                          → alert lifecycle at each step (one transaction) → hub-status
                          → a new immutable ``Snapshot`` for the API and /metrics
       network view       hub-status reader (the other replicas' hubs)
       deliver            alert outbox delivery (wall clock)
       daily report       the day's report to its receivers (app.reports.schedule), when due
       stall watch        logs where the consume task waits if it stops polling Kafka
Runtime.close()            checkpoint, commit, leave the group, close everything
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import polars as pl
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import Depends, Request
from prometheus_client import CollectorRegistry, Counter

from alerts.evaluation.tick import StepSignals
from alerts.service import AlertService
from alerts.store.registry import changes_after, last_change_id, load_registry_rows
from alerts.store.warnings import warnings_frame
from app.api.deps import Principal
from app.keys import KeyStore
from app.ratelimit import RateLimiter
from app.reports.recorder import HourRecorder
from app.reports.schedule import ReportScheduler
from app.settings import Settings
from consumers.consumer import HubEventConsumer
from consumers.metrics import PipelineMetrics
from consumers.network_steps import NetworkStepper
from consumers.network_view import NetworkView, publish_alive, publish_states, publish_sums
from consumers.producing import GroupedProducer
from consumers.topics import TopicNames, ensure_topics
from core.config import RiskConfig
from core.engine import HUB_STATE_SCHEMA, Engine, StepResult
from core.errors import BrokerUnavailableError
from core.evaluate import partition_sums, step_signals
from core.events import HubEvent
from core.registry import HubSpec, empty_registry, hubs_frame, parse_hubs, upsert_hub
from core.signals import empty_signals
from storage.db import Database

log = logging.getLogger(__name__)

STALL_CHECK_S = 10.0
REGISTRY_REFRESH_S = 2.0
ALIVE_INTERVAL_S = 5.0  # how often an owner says it still polls (the stepper waits 120 s)
ALIVE_STALL_S = 60.0  # a loop not polling for this long says nothing: it may be wedged
REGISTRY_RELOAD_EVERY = 30  # refreshes: a full reload every minute
STALL_AFTER_S = 20.0


@dataclass(frozen=True)
class Snapshot:
    """The view the API and /metrics read, replaced (never changed) after each run of steps.

    ``watermark`` is the event-time step every frame describes; ``buckets`` the per-minute
    history of this replica's hubs as of that step (for hub series).
    """

    hub_states: pl.DataFrame
    signals: pl.DataFrame
    watermark: datetime | None
    buckets: pl.DataFrame | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class Runtime:
    """Everything one ``peakwatch serve`` process runs."""

    def __init__(
        self, settings: Settings, registry: pl.DataFrame, metrics: CollectorRegistry
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.metrics_registry = metrics
        self.topics = TopicNames(
            events=settings.events_topic,
            dlq=settings.dlq_topic,
            status=settings.status_topic,
            checkpoints=settings.checkpoint_topic,
        )
        self.engine = Engine(registry, RiskConfig.from_mapping(settings.risk))
        self.pipeline_metrics = PipelineMetrics(metrics)
        self.rate_limiter = RateLimiter(settings.rate_limits, settings.default_rate_per_s)
        self.ingest_counter = Counter(
            "peakwatch_ingest_events",
            "POST /v1/events items by outcome.",
            ["carrier", "outcome"],
            registry=metrics,
        )
        self.snapshot = Snapshot(self.engine.hub_states(), empty_signals(), None)
        self._published_at = 0.0  # monotonic time hub-status rows were last published
        self._unpublished: pl.DataFrame | None = None  # rows held back by the throttle
        self.network_stepper: NetworkStepper | None = None
        self._network_signals = empty_signals()  # of the last network step decided
        self._deciding = asyncio.Lock()  # one transaction of alert decisions at a time
        self._registry_db: Database | None = None
        self._registry_change_id = 0
        self._refreshes = 0
        self.producer: Any = None
        self.events_producer: GroupedProducer | None = None  # HTTP ingest, over ``producer``
        self.consumer: HubEventConsumer | None = None
        self.network: NetworkView | None = None
        self.alerts: AlertService | None = None
        self.keys: KeyStore | None = None
        self.hour_rows = HourRecorder()  # the daily report's rows (app.reports.recorder)
        silent_s = self.engine.config.silent_yellow_s  # the sent daily report (None: off)
        self.daily_reports = ReportScheduler.from_settings(settings, silent_after_s=silent_s)
        self._owners: dict[str, str] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._refresh_owners()

    # -- registry --------------------------------------------------------------------------

    def _refresh_owners(self) -> None:
        self._owners = dict(zip(self.registry["hub_id"], self.registry["carrier"], strict=True))

    def hub_owners(self) -> dict[str, str]:
        """hub_id → carrier code of every registered hub."""
        return self._owners

    async def put_hub(self, hub: HubSpec) -> None:
        """Add or change a hub here; the route has stored it, and every replica's refresh
        (``refresh_registry``) brings it there too."""
        self._set_registry(upsert_hub(self.registry, hub))

    def _set_registry(self, registry: pl.DataFrame) -> None:
        """The registry in force. The engine takes it in the consumer's next turn; the
        snapshot shows a new hub at once (unknown until its first step)."""
        self.registry = registry
        self._refresh_owners()
        states = self.snapshot.hub_states
        added = registry.filter(~pl.col("hub_id").is_in(states["hub_id"].implode()))
        if added.height:
            unknown = Engine(added, self.engine.config).hub_states()
            self.snapshot = replace(self.snapshot, hub_states=pl.concat([states, unknown]))

    async def load_stored_registry(self, db: Database) -> None:
        """At start: the hubs file, then every hub stored through the API (the store wins)."""
        async with db.sessionmaker() as session:
            self._registry_change_id = await last_change_id(session)  # first: none is missed
            rows = await load_registry_rows(session)
        if rows:
            merged = pl.concat([self.registry, hubs_frame(rows)])
            self._set_registry(merged.unique("hub_id", keep="last", maintain_order=True))
            log.info("hub registry: %d hubs stored through the API loaded", len(rows))
        self._registry_db = db

    async def refresh_registry(self) -> None:
        """Bring changes other replicas stored (every ``REGISTRY_REFRESH_S``); reload all of
        it now and then, since ids committed out of order could be skipped."""
        db = self._registry_db
        if db is None:
            return
        self._refreshes += 1
        async with db.sessionmaker() as session:
            if self._refreshes % REGISTRY_RELOAD_EVERY == 0:
                rows = await load_registry_rows(session)
                changes: list[HubSpec] = rows
            else:
                found = await changes_after(session, self._registry_change_id)
                if found:
                    self._registry_change_id = found[-1].id
                changes = [change.after for change in found]
            if self.engine.config.warning_sensitivity.enabled:  # read by core.sensitivity
                since = (self.engine.watermark() or datetime.now(UTC)) - timedelta(days=2)
                self.engine.warnings = await warnings_frame(session, valid_after=since)
        registry = self.registry
        for hub in changes:
            registry = upsert_hub(registry, hub)
        if changes and not registry.equals(self.registry):
            self._set_registry(registry)

    # -- ingest ----------------------------------------------------------------------------

    async def produce_events(self, events: list[HubEvent]) -> None:
        """Store events in Kafka (acks=all, key = hub_id); raise if Kafka cannot take them all."""
        if not events:
            return
        records = [(event.hub_id.encode(), event.to_record()) for event in events]
        assert self.events_producer is not None
        try:
            await self.events_producer.send(
                self.topics.events, records, timeout_s=self.settings.produce_timeout_s
            )
        except (KafkaError, TimeoutError) as error:
            raise BrokerUnavailableError(str(error) or error.__class__.__name__) from error

    def count_ingest(self, principal: Principal, *, accepted: int, rejected: int) -> None:
        """Count items of a batch in ``peakwatch_ingest_events_total``."""
        carrier = principal.carrier or principal.role
        self.ingest_counter.labels(carrier, "accepted").inc(accepted)
        self.ingest_counter.labels(carrier, "rejected").inc(rejected)

    # -- event-time steps ------------------------------------------------------------------

    async def on_steps(self, steps: list[StepResult], behind_s: float) -> None:
        """A run of steps from the consumer: hub rules and province sums per step → the sums on
        hub-status → network steps now ready → alerts (one transaction) → hub rows → the
        snapshot. Runs before the batch's offsets are committed."""
        assert self.network is not None
        hub_steps, sums = await asyncio.to_thread(self._hub_steps, steps)
        for step_ms, parts in sums:
            self.network.add_sums(step_ms, parts)
            await publish_sums(self.producer, self.topics.status, step_ms, parts)
        await self.decide(hub_steps, behind_s=behind_s)
        await self.hour_rows.record(steps, self._registry_db)
        reports, db, consumer = self.daily_reports, self._registry_db, self.consumer
        if reports is not None and db is not None and consumer and 0 in consumer.assigned:
            reports.after_steps(steps[0].step, steps[-1].step, db)  # sends in its own task
        last = steps[-1]
        owned = self._owned(last)
        self._unpublished = owned
        await self.publish_rows()
        merged = await asyncio.to_thread(self._merge_view, owned, last.hub_states)
        signals = pl.concat([hub_steps[-1].signals, self._network_signals])
        self.snapshot = Snapshot(merged, signals, last.step, buckets=last.buckets)
        lag_s = (datetime.now(UTC) - last.step).total_seconds()
        self.pipeline_metrics.watermark_lag.set(lag_s)

    async def decide(self, hub_steps: list[StepSignals], *, behind_s: float = 0.0) -> None:
        """Store the alert decisions of these hub steps and of the network steps now ready
        (on the replica holding partition 0), oldest first, in one transaction."""
        async with self._deciding:
            consumer, stepper = self.consumer, self.network_stepper
            network: list[StepSignals] = []
            if consumer is not None and stepper is not None and 0 in consumer.assigned:
                ready = await asyncio.to_thread(stepper.ready)
                network = [StepSignals(at, sig, {}, frozenset(), True) for at, sig in ready]
            decided = sorted([*hub_steps, *network], key=lambda s: (s.at, s.evaluates_network))
            if self.alerts is not None and decided:
                await self.alerts.process_steps(decided, behind_s=behind_s)
            if network and stepper is not None:
                stepper.done([s.at for s in network])
                self._network_signals = network[-1].signals

    async def publish_alive(self) -> None:
        """Tell the network's stepper that our partitions' owner still polls them (so it waits
        for their sums however far behind we are); nothing once our loop has stalled."""
        consumer = self.consumer
        if consumer is None or not consumer.assigned or self.producer is None:
            return
        if time.monotonic() - consumer.last_poll_monotonic > ALIVE_STALL_S:
            return
        await publish_alive(self.producer, self.topics.status, consumer.assigned)

    async def publish_rows(self, *, due_only: bool = True) -> None:
        """Publish our hubs' rows as of the last step, at most every
        ``status_publish_interval_s``; what a throttled call held back goes out with the next
        call (a periodic task makes one), so the last state is always published."""
        rows = self._unpublished
        if rows is None:
            return
        interval = self.settings.status_publish_interval_s
        if due_only and time.monotonic() - self._published_at < interval:
            return
        self._unpublished = None
        await publish_states(self.producer, self.topics.status, rows)
        self._published_at = time.monotonic()

    @staticmethod
    def _owned(step: StepResult) -> pl.DataFrame:
        return step.hub_states.filter(
            pl.col("hub_id").is_in(step.hubs_by_partition["hub_id"].implode())
        )

    def _hub_steps(
        self, steps: list[StepResult]
    ) -> tuple[list[StepSignals], list[tuple[int, dict[int, pl.DataFrame]]]]:
        """Each step's hub signals (what this replica decides at it), and the province sums of
        the partitions it evaluates (what the network's evaluator adds up)."""
        decided, sums = [], []
        for step in steps:
            signals = step_signals(step, network_sums=None, config=self.engine.config)
            hubs = dict(step.hubs_by_partition.iter_rows())
            decided.append(StepSignals(step.step, signals, hubs, step.partitions, False))
            sums.append((int(step.step.timestamp() * 1000), partition_sums(step)))
        return decided, sums

    def _merge_view(self, owned: pl.DataFrame, local: pl.DataFrame) -> pl.DataFrame:
        """Every registered hub: our rows, then other replicas' published rows, else unknown
        (``local``: every registered hub as this engine sees it)."""
        assert self.network is not None
        remote = self.network.frame(HUB_STATE_SCHEMA)
        remote = remote.filter(~pl.col("hub_id").is_in(owned["hub_id"].implode()))
        known = pl.concat([owned, remote])
        unknown = local.filter(~pl.col("hub_id").is_in(known["hub_id"].implode()))
        return pl.concat([known, unknown]).filter(
            pl.col("hub_id").is_in(self.registry["hub_id"].implode())
        )

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect to Kafka, create topics, join the group and start the background tasks."""
        settings = self.settings
        await ensure_topics(
            settings.kafka_bootstrap,
            self.topics,
            partitions=settings.events_partitions,
            replication_factor=settings.replication_factor,
        )
        self.producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            max_batch_size=256 * 1024,
        )
        await self.producer.start()
        self.events_producer = GroupedProducer(self.producer)
        self.network = NetworkView(bootstrap=settings.kafka_bootstrap, topic=self.topics.status)
        await self.network.start()
        self.consumer = HubEventConsumer(
            bootstrap=settings.kafka_bootstrap,
            topics=self.topics,
            group=settings.consumer_group,
            engine=self.engine,
            registry=lambda: self.registry,
            metrics=self.pipeline_metrics,
            max_batch_records=settings.max_batch_records,
            checkpoint_interval_s=settings.checkpoint_interval_s,
            idle_timeout_s=settings.idle_timeout_s,
            on_steps=self.on_steps,
        )
        partitions = await self.producer.partitions_for(self.topics.events)
        self.network_stepper = NetworkStepper(
            self.network, partitions=partitions, config=self.engine.config
        )
        await self.consumer.start()
        self._spawn(self.consumer.run(), "consume")
        self._spawn(self._every(1.0, self.decide, []), "network steps")
        interval = settings.status_publish_interval_s
        self._spawn(self._every(interval, self.publish_rows), "hub-status rows")
        self._spawn(self._every(ALIVE_INTERVAL_S, self.publish_alive), "hub-status liveness")
        self._spawn(self._every(REGISTRY_REFRESH_S, self.refresh_registry), "registry refresh")
        self._spawn(self._every(STALL_CHECK_S, self._report_stall), "stall watch")
        self._spawn(self.network.run(), "network view")
        if self.alerts is not None:
            alerts = self.alerts

            async def deliver() -> None:
                await alerts.deliver_due(wall_now=datetime.now(UTC))

            self._spawn(self._every(1.0, deliver), "deliver")

    async def _report_stall(self) -> None:
        """Log where the consuming task waits when it has not polled Kafka for a while."""
        consumer = self.consumer
        if consumer is None:
            return
        idle_s = time.monotonic() - consumer.last_poll_monotonic
        if idle_s < STALL_AFTER_S:
            return
        stacks = io.StringIO()
        for task in self._tasks:
            if task.get_name() == "consume":
                task.print_stack(file=stacks)
        log.warning(
            "consumer has not polled Kafka for %.0f s; it waits in:\n%s", idle_s, stacks.getvalue()
        )

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(coroutine, name=name))

    @staticmethod
    async def _every(period_s: float, action: Any, *args: Any) -> None:
        while True:
            await asyncio.sleep(period_s)
            try:
                await action(*args)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background step failed; trying again in %.1f s", period_s)

    async def close(self) -> None:
        """Stop the tasks, checkpoint and leave the group, close clients."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.daily_reports is not None:
            await self.daily_reports.close()
        if self.consumer is not None:
            await self.consumer.stop()
        if self.network is not None:
            await self.network.stop()
        if self.producer is not None:
            await self.producer.stop()

    # -- readiness -------------------------------------------------------------------------

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """(ready, details): consuming, assigned, caught up within the configured lag."""
        consumer = self.consumer
        if consumer is None:
            return False, {"consuming": False}
        lag = consumer.lag_records() if consumer.assigned else None
        details = {
            "consuming": True,
            "assigned_partitions": sorted(consumer.assigned),
            "caught_up": consumer.caught_up,
            "lag_records": lag,
            "network_view_loaded": self.network is not None and self.network.loaded,
        }
        ready = (
            bool(consumer.assigned)
            and consumer.caught_up
            and lag is not None
            and lag <= self.settings.ready_max_lag_records
        )
        return ready, details


def load_registry(settings: Settings) -> pl.DataFrame:
    """The hubs file of the settings, or an empty registry."""
    if settings.hubs_file is None:
        return empty_registry()
    return parse_hubs(
        settings.hubs_file.read_text(encoding="utf-8"), source=str(settings.hubs_file)
    )


def get_runtime(request: Request) -> Runtime:
    """The process's runtime (set by the app's lifespan)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
