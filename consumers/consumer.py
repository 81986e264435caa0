"""The hub-events consumer: Kafka in, core state out, nothing lost and nothing counted twice.
It is the engine's one owner: ingesting a batch and running the event-time steps it completes
happen in sequence, in one worker thread, never alongside anything else that touches the engine.

    getmany (bounded) → worker thread: decode + registry check + engine.ingest (one Polars pass)
      + every event-time step the watermark passed (engine.run_due_steps)
      → on_steps(steps): rules, alerts, hub-status, the API's snapshot (the runtime's)
      → DLQ records produced (acks=all) → offsets committed
    no records: idleness (wall clock) — a partition quiet for ``idle_timeout_s`` with nothing
      left to read stops holding the watermark back; when all are, event time goes on
      (the next getmany runs while the worker thread applies; a change of assignment or an
      error drops that prefetched batch and seeks back to the first offset not yet applied)
    every checkpoint_interval_s: engine state per partition → hub-state-checkpoints (acks=all),
      one partition per poll so that the checkpoints spread over successive batches
    on assignment: load each new partition's checkpoint, seek to its offset, replay to the end
      before the partition counts as caught up (alerting waits for that)
    on revocation: checkpoint, commit, forget the partition's hubs

Back-pressure: the loop pulls a bounded batch only after the previous one is applied, so memory
is bounded by ``max_batch_records`` and aiokafka's fetch buffer; a slow core slows fetching, it
never queues without limit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError, MessageSizeTooLargeError

from consumers.batch import BatchOutcome, DeadLetter, RawBatch, process_batch
from consumers.checkpoints import Checkpoint, read_checkpoints, write_checkpoints
from consumers.dlq import send_dead_letters
from consumers.metrics import PipelineMetrics
from consumers.topics import MAX_CHECKPOINT_BYTES, TopicNames
from core.engine import Engine, StepResult
from core.vocabulary import RejectReason

log = logging.getLogger(__name__)

MAX_BATCH_TRIES = 3  # then record by record, and a record that still fails is dead-lettered

StepSink = Callable[[list[StepResult], float], Awaitable[None]]
"""Receives the steps a batch completed, oldest first, and how far (wall seconds) the newest
record applied was behind its produce time; effects must be durable when it returns."""


async def _no_sink(steps: list[StepResult], behind_s: float) -> None:
    return None


@dataclass(frozen=True)
class _Fetched:
    """Records of one getmany, and the next offset of each of their partitions."""

    epoch: int  # the assignment they were fetched under (-1: it changed meanwhile)
    records: list[Any]
    next_offsets: dict[int, int]
    newest_ms: int = 0  # the newest produce time (record timestamp) among them


@dataclass(frozen=True)
class Idleness:
    """Partitions that stopped sending, as the watermark sees them (see ``idleness``)."""

    idle: set[int]  # drained on a settled highwater: they hold nothing back
    quiet_ms: dict[int, int]  # quiet this long, drained as far as known: held at the wall's pace
    feed_stopped_s: float | None  # every partition quiet: how long since the newest record

    def without(self, partitions: set[int]) -> Idleness:
        """The same, for partitions other than ``partitions`` (those a batch just heard)."""
        quiet = {p: ms for p, ms in self.quiet_ms.items() if p not in partitions}
        return Idleness(self.idle - partitions, quiet, None)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: HubEventConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self.owner.release({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self.owner.recover({tp.partition for tp in assigned})


class HubEventConsumer:
    """Consumes ``hub-events`` in a consumer group and keeps ``engine`` up to date."""

    def __init__(
        self,
        *,
        bootstrap: str,
        topics: TopicNames,
        group: str,
        engine: Engine,
        registry: Callable[[], pl.DataFrame],
        metrics: PipelineMetrics,
        max_batch_records: int = 20_000,
        checkpoint_interval_s: float = 10.0,
        idle_timeout_s: float = 60.0,
        settle_s: float = 2.0,
        on_steps: StepSink = _no_sink,
    ) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self.group = group
        self.engine = engine
        self.registry = registry
        self.metrics = metrics
        self.max_batch_records = max_batch_records
        self.checkpoint_interval_s = checkpoint_interval_s
        self.idle_timeout_s = idle_timeout_s
        self.settle_s = settle_s  # how far apart one burst's partitions may reach the broker
        self.on_steps = on_steps
        self.assigned: set[int] = set()
        self.next_offsets: dict[int, int] = {}
        self.catch_up_targets: dict[int, int] = {}
        # the worker's turn on the engine: a batch being applied, or a rebalance callback
        # (which aiokafka runs inside the prefetching getmany) dropping or loading partitions
        self._engine_turn = asyncio.Lock()
        self._last_record_at: dict[int, float] = {}  # monotonic time of a partition's last record
        self._unsent: list[StepResult] = []  # steps whose effects failed: sent again first
        self._failed_tries: dict[tuple[int, int], int] = {}  # (partition, offset) of a batch
        self._assigned_at: dict[int, float] = {}  # a partition never heard is quiet from here
        self._newest_produced_ms = 0  # the newest produce time (record timestamp) applied
        self._consumer: Any = None
        self._producer: Any = None
        self._checkpointed_offsets: dict[int, int] = {}
        self._checkpointed_at: dict[int, float] = {}  # monotonic time, per partition
        self.last_poll_monotonic = 0.0
        self._was_caught_up = False
        self._prefetched: _Fetched | None = None
        self._epoch = 0  # moves on at every change of assignment

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect the producer (DLQ, checkpoints) and join the group."""
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            enable_idempotence=True,
            max_request_size=MAX_CHECKPOINT_BYTES,
            linger_ms=5,
        )
        await self._producer.start()
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_bytes=32 * 1024 * 1024,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=2_000,
            max_poll_interval_ms=300_000,
        )
        await self._consumer.start()
        self.last_poll_monotonic = time.monotonic()
        self._consumer.subscribe([self.topics.events], listener=_Rebalance(self))

    async def stop(self) -> None:
        """Checkpoint what we own, commit, leave the group, close the producer."""
        if self._consumer is not None:
            try:
                await self._checkpoint(self.assigned)
                await self._commit()
            except KafkaError as error:
                log.warning("final checkpoint failed (%s); the next owner replays further", error)
            await self._consumer.stop()
            self._consumer = None
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def run(self) -> None:
        """Consume until cancelled."""
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except KafkaError as error:
                # The broker is away (restart, network): aiokafka reconnects by itself; we
                # keep our state and go back to the first record not yet fully handled.
                log.warning("kafka error, retrying in 1 s: %s", error)
                self._rewind()
                await asyncio.sleep(1.0)
            except Exception:
                # Never let the consuming task die silently: log, go back, try again.
                log.exception("consuming failed, retrying in 1 s")
                self._rewind()
                await asyncio.sleep(1.0)

    # -- the loop --------------------------------------------------------------------------

    async def poll_once(self) -> BatchOutcome | None:
        """Apply one bounded batch and the steps it completes, dead-letter its bad records,
        hand the steps on, commit.

        The next batch is fetched while this one is applied in the worker thread: aiokafka
        builds its record objects in this thread (Python), the engine works in Polars (off the
        GIL), so the two overlap on two cores instead of taking turns.
        """
        fetched = self._prefetched
        self._prefetched = None
        if fetched is None or fetched.epoch != self._epoch:
            if fetched is not None:  # the assignment changed since: fetch again from our offsets
                self._rewind()
            fetched = await self._fetch()
        outcome = None
        behind_s = 0.0
        if fetched.records:
            applying = asyncio.ensure_future(self._apply(fetched))
            try:
                self._prefetched = await self._fetch()
            finally:
                outcome, steps = await applying
            if outcome is None:  # the assignment changed before its turn: nothing applied,
                self._rewind()  # and the prefetched batch starts past it: fetch both again
                return None
            await send_dead_letters(
                self._producer,
                outcome.dead_letters,
                dlq_topic=self.topics.dlq,
                source_topic=self.topics.events,
            )
            behind_s = max(0.0, time.time() - fetched.newest_ms / 1000)
            self._count(outcome, fetched)
        else:
            steps = await self._idle_steps()
        await self._hand_on(steps, behind_s)
        await self._commit()
        self._update_lag()
        if self.caught_up != self._was_caught_up:
            self._was_caught_up = self.caught_up
            log.info("caught up: %s (next offsets %s)", self.caught_up, self.next_offsets)
        due = self._oldest_checkpoint_due()
        if due is not None:
            await self._checkpoint({due})
        return outcome

    async def _hand_on(self, steps: list[StepResult], behind_s: float) -> None:
        """Give the steps (and any whose effects failed before) to ``on_steps``; keep them on
        failure, so that the next poll sends them again before anything newer."""
        pending = [*self._unsent, *steps]
        if not pending:
            return
        self._unsent = pending
        await self.on_steps(pending, behind_s)
        self._unsent = []

    def idleness(self, produced_ms: int | None = None) -> Idleness:
        """Which partitions are quiet (no record for ``idle_timeout_s``, nothing left to read
        at the last highwater seen), and how far each may stop holding the watermark back.

        A highwater can be a moment old: a burst after a pause may reach the broker partition
        by partition, and a partition whose records are still on their way looks drained. So a
        quiet partition this process has heard from is *idle* (holds nothing back) only on a
        highwater fetched at least ``settle_s`` after the newest record applied was produced;
        until then it is *quiet*: it holds the watermark at its newest event time plus the time
        it has been quiet, so event time moves past it no faster than the wall clock (live
        behaviour, never ahead of what its late records could still change).
        """
        now = time.monotonic()
        wall_ms = int(time.time() * 1000)  # a producer's clock ahead of ours counts as now
        newest_ms = min(max(self._newest_produced_ms, produced_ms or 0), wall_ms)
        settled_ms = newest_ms + int(self.settle_s * 1000)
        idle: set[int] = set()
        quiet_ms: dict[int, int] = {}
        for partition in self.assigned:
            heard = self._last_record_at.get(partition)
            since = heard if heard is not None else self._assigned_at.get(partition, now)
            if now - since < self.idle_timeout_s or not self._drained(partition):
                continue
            if heard is None or self._highwater_at_ms(partition) >= settled_ms:
                idle.add(partition)
            else:
                quiet_ms[partition] = int((now - heard) * 1000)
        stopped_s = None
        if self.assigned and idle | set(quiet_ms) == self.assigned and self._last_record_at:
            stopped_s = now - max(self._last_record_at.values())
        return Idleness(idle=idle, quiet_ms=quiet_ms, feed_stopped_s=stopped_s)

    def _drained(self, partition: int) -> bool:
        if self._consumer is None:
            return False
        highwater = self._consumer.highwater(TopicPartition(self.topics.events, partition))
        return highwater is not None and self.next_offsets.get(partition, 0) >= highwater

    def _highwater_at_ms(self, partition: int) -> int:
        """When (epoch ms, this host's clock) the partition's highwater was last fetched."""
        tp = TopicPartition(self.topics.events, partition)
        fetched_at = self._consumer.last_poll_timestamp(tp) if self._consumer else None
        return -1 if fetched_at is None else int(fetched_at)

    async def _idle_steps(self) -> list[StepResult]:
        """Steps that idleness completes (no records this poll)."""
        idleness = self.idleness()
        if not idleness.idle and not idleness.quiet_ms:
            return []
        async with self._engine_turn:
            return await asyncio.to_thread(self._idle_turn, idleness)

    async def _fetch(self) -> _Fetched:
        """One bounded getmany, kept to the partitions this replica has rebuilt."""
        epoch = self._epoch
        batches = await self._consumer.getmany(timeout_ms=500, max_records=self.max_batch_records)
        self.last_poll_monotonic = time.monotonic()
        # Only partitions whose state is rebuilt, and only records past what that state holds:
        # aiokafka may fetch from the committed offset while a new assignment is still being
        # recovered from its checkpoint; those records come again after the seek.
        kept = {
            tp.partition: [r for r in part if r.offset >= self.next_offsets.get(tp.partition, 0)]
            for tp, part in batches.items()
            if tp.partition in self.assigned
        }
        kept = {partition: part for partition, part in kept.items() if part}
        records = [record for part in kept.values() for record in part]
        return _Fetched(
            epoch=epoch if epoch == self._epoch else -1,  # a rebalance ran during getmany
            records=records,
            next_offsets={partition: part[-1].offset + 1 for partition, part in kept.items()},
            newest_ms=max((record.timestamp for record in records), default=0),
        )

    def _rewind(self) -> None:
        """Forget a fetched batch not applied; seek every partition back to our next offset."""
        self._prefetched = None
        if self._consumer is None:
            return
        for partition in self.assigned:
            if partition in self.next_offsets:
                tp = TopicPartition(self.topics.events, partition)
                self._consumer.seek(tp, self.next_offsets[partition])

    async def _apply(self, fetched: _Fetched) -> tuple[BatchOutcome | None, list[StepResult]]:
        """Ingest a batch and run the steps it completes, in the worker thread.

        Nothing for a batch whose assignment changed before its turn (a rebalance callback ran
        first): it is fetched again from our offsets. Its offsets move on in the same turn, so a
        checkpoint written by a revocation right after holds the batch and says so.
        """
        records = fetched.records
        raw = RawBatch(
            values=[record.value or b"" for record in records],
            partitions=[record.partition for record in records],
            offsets=[record.offset for record in records],
            timestamps_ms=[record.timestamp for record in records],
        )
        started = time.perf_counter()
        async with self._engine_turn:
            if fetched.epoch != self._epoch:
                return None, []
            produced_ms = fetched.newest_ms
            idleness = self.idleness(produced_ms).without(set(fetched.next_offsets))
            outcome, steps = await asyncio.to_thread(self._ingest_and_step, raw, idleness)
            self.next_offsets.update(fetched.next_offsets)
            now = time.monotonic()
            for partition in fetched.next_offsets:
                self._last_record_at[partition] = now
            wall_ms = int(time.time() * 1000)
            self._newest_produced_ms = max(self._newest_produced_ms, min(produced_ms, wall_ms))
        self.metrics.batch_duration.observe(time.perf_counter() - started)
        return outcome, steps

    def _ingest_and_step(
        self, raw: RawBatch, idleness: Idleness
    ) -> tuple[BatchOutcome, list[StepResult]]:
        registry = self._sync_registry()
        where = (raw.partitions[0], raw.offsets[0])
        if self._failed_tries.get(where, 0) >= MAX_BATCH_TRIES:
            outcome = self._ingest_one_by_one(registry, raw)
        else:
            try:
                outcome = process_batch(self.engine, registry, raw, now=datetime.now(UTC))
            except Exception:
                self._failed_tries[where] = self._failed_tries.get(where, 0) + 1
                raise
        self._failed_tries.pop(where, None)
        return outcome, self.engine.run_due_steps(idleness.idle, quiet_ms=idleness.quiet_ms)

    def _ingest_one_by_one(self, registry: pl.DataFrame, raw: RawBatch) -> BatchOutcome:
        """A batch that failed ``MAX_BATCH_TRIES`` times: each record alone; one that still
        fails goes to the DLQ with the error, so that it can never stall the partition."""
        log.error(
            "a batch failed %d times (partition %d offset %d): applying it record by record",
            MAX_BATCH_TRIES,
            raw.partitions[0],
            raw.offsets[0],
        )
        total = BatchOutcome()
        for i, value in enumerate(raw.values):
            one = RawBatch([value], [raw.partitions[i]], [raw.offsets[i]], [raw.timestamps_ms[i]])
            try:
                outcome = process_batch(self.engine, registry, one, now=datetime.now(UTC))
            except Exception as error:
                log.exception(
                    "record at partition %d offset %d cannot be processed",
                    one.partitions[0],
                    one.offsets[0],
                )
                outcome = BatchOutcome(
                    dead_letters=[
                        DeadLetter(
                            partition=one.partitions[0],
                            offset=one.offsets[0],
                            value=value,
                            reason_code=RejectReason.PROCESSING_ERROR,
                            field="(record)",
                            reason=f"could not be processed in {MAX_BATCH_TRIES} tries: "
                            f"{type(error).__name__}: {str(error)[:200]}",
                        )
                    ]
                )
            total.applied += outcome.applied
            total.duplicate += outcome.duplicate
            total.late += outcome.late
            total.dead_letters.extend(outcome.dead_letters)
        return total

    def _sync_registry(self) -> pl.DataFrame:
        """The registry as the runtime holds it now, handed to the engine in its own turn."""
        registry = self.registry()
        if registry is not self.engine.registry:
            self.engine.set_registry(registry)
        return registry

    def _idle_turn(self, idleness: Idleness) -> list[StepResult]:
        self._sync_registry()
        stopped_s = idleness.feed_stopped_s
        return self.engine.run_due_steps(
            idleness.idle,
            quiet_ms=idleness.quiet_ms,
            feed_stopped_for_ms=None if stopped_s is None else int(stopped_s * 1000),
        )

    def _count(self, outcome: BatchOutcome, fetched: _Fetched) -> None:
        metrics = self.metrics
        metrics.batch_records.observe(len(fetched.records))
        metrics.records.labels("applied").inc(outcome.applied)
        metrics.records.labels("duplicate").inc(outcome.duplicate)
        metrics.records.labels("late").inc(outcome.late)
        for letter in outcome.dead_letters:
            label = "quarantined" if letter.reason_code == "future_ts" else "dead_lettered"
            metrics.records.labels(label).inc()
            metrics.dlq.labels(letter.reason_code).inc()
        now_ms = time.time() * 1000
        metrics.state_latency.observe(max(0.0, (now_ms - fetched.newest_ms) / 1000))

    def _update_lag(self) -> None:
        for partition in self.assigned:
            tp = TopicPartition(self.topics.events, partition)
            highwater = self._consumer.highwater(tp)
            if highwater is not None:
                lag = max(0, highwater - self.next_offsets.get(partition, 0))
                self.metrics.lag.labels(str(partition)).set(lag)

    async def _commit(self) -> None:
        offsets = {
            TopicPartition(self.topics.events, p): offset
            for p, offset in self.next_offsets.items()
            if p in self.assigned
        }
        if offsets:
            await self._consumer.commit(offsets)

    # -- state: checkpoints, recovery, rebalance -------------------------------------------

    def _oldest_checkpoint_due(self) -> int | None:
        """The partition whose checkpoint is oldest, once older than ``checkpoint_interval_s``.

        One partition per poll: their checkpoints spread over successive batches instead of
        stalling the loop for all partitions at once (≈ 30 ms and 1.7 MB each at national scale).
        """
        now = time.monotonic()
        ages = {p: now - self._checkpointed_at.get(p, now) for p in self.assigned}
        oldest = max(ages, key=lambda p: ages[p], default=None)
        if oldest is None or ages[oldest] < self.checkpoint_interval_s:
            return None
        return oldest

    async def _checkpoint(self, partitions: set[int]) -> None:
        """Store the state of ``partitions`` whose offset moved since their last checkpoint."""
        now = time.monotonic()
        for partition in partitions:
            self._checkpointed_at[partition] = now
        moved = [
            p
            for p in sorted(partitions)
            if p in self.next_offsets and self._checkpointed_offsets.get(p) != self.next_offsets[p]
        ]
        if not moved or self._producer is None:
            return
        async with self._engine_turn:  # serialised in the worker thread, off the event loop
            offsets = {p: self.next_offsets[p] for p in moved if p in self.next_offsets}
            states = await asyncio.to_thread(self._checkpoint_states, sorted(offsets))
        checkpoints = [Checkpoint(p, offsets[p], state) for p, state in states.items()]
        try:
            await write_checkpoints(
                self._producer, self.topics.checkpoints, self.group, checkpoints
            )
        except MessageSizeTooLargeError:
            largest = max(len(checkpoint.state) for checkpoint in checkpoints)
            log.error(
                "checkpoint of %d bytes refused by Kafka: set max.message.bytes=%d on topic %s "
                "(a restart replays from the last stored checkpoint until then)",
                largest,
                MAX_CHECKPOINT_BYTES,
                self.topics.checkpoints,
            )
            return
        for checkpoint in checkpoints:
            self._checkpointed_offsets[checkpoint.partition] = checkpoint.next_offset

    def _checkpoint_states(self, partitions: list[int]) -> dict[int, bytes]:
        return {p: self.engine.checkpoint(partitions={p}) for p in partitions}

    async def release(self, partitions: set[int]) -> None:
        """On revocation: checkpoint and commit what we had, then forget those hubs."""
        try:
            await self._checkpoint(partitions)
            await self._commit()
        except KafkaError as error:
            log.warning("checkpoint on revocation failed (%s); the next owner replays", error)
        async with self._engine_turn:
            self.engine.drop_partitions(partitions)
            self.assigned -= partitions
            self.engine.assign(self.assigned)
            self._epoch += 1
        for partition in partitions:
            self._last_record_at.pop(partition, None)
            self.next_offsets.pop(partition, None)
            self.catch_up_targets.pop(partition, None)
            self._checkpointed_offsets.pop(partition, None)
            self._checkpointed_at.pop(partition, None)
        log.info("released partitions %s", sorted(partitions))

    async def recover(self, partitions: set[int]) -> None:
        """On assignment: rebuild the new partitions' state before they count as caught up."""
        new = partitions - self.assigned
        if not new:
            async with self._engine_turn:
                self.assigned = set(partitions)
                self.engine.assign(self.assigned)
                self._epoch += 1
            return
        started = time.monotonic()
        checkpoints = await read_checkpoints(
            self.bootstrap, self.topics.checkpoints, self.group, new
        )
        tps = [TopicPartition(self.topics.events, p) for p in sorted(new)]
        read_s = time.monotonic() - started
        ends = await self._consumer.end_offsets(tps)
        beginnings = await self._consumer.beginning_offsets(tps)
        async with self._engine_turn:
            # No await from here on: the consuming task runs getmany concurrently with this
            # rebalance callback, and records it drained between a seek and ``assigned`` below
            # would be dropped as "not ours yet" after the seek had moved past them.
            for checkpoint in checkpoints.values():
                self.engine.load_checkpoint(checkpoint.state)
            for tp in tps:
                found = checkpoints.get(tp.partition)
                start = beginnings[tp] if found is None else found.next_offset
                self._consumer.seek(tp, start)
                if found is not None:
                    self._checkpointed_offsets[tp.partition] = start
                self.next_offsets[tp.partition] = start
                self._checkpointed_at[tp.partition] = time.monotonic()
                self.catch_up_targets[tp.partition] = ends[tp]
            self.assigned = set(partitions)  # only now: readiness must not count unrecovered ones
            self.engine.assign(self.assigned)
            for partition in new:
                self._assigned_at[partition] = time.monotonic()
            self._epoch += 1
        log.info(
            "assigned partitions %s (%d from checkpoints, read in %.1f s, recovered in %.1f s),"
            " replaying to %s",
            sorted(new),
            len(checkpoints),
            read_s,
            time.monotonic() - started,
            {tp.partition: ends[tp] for tp in tps},
        )

    # -- readiness -------------------------------------------------------------------------

    @property
    def caught_up(self) -> bool:
        """Every assigned partition has replayed at least to where it stood when assigned."""
        if not self.assigned:
            return False
        return all(
            self.next_offsets.get(p, 0) >= self.catch_up_targets.get(p, 0) for p in self.assigned
        )

    def lag_records(self) -> int:
        """Records behind the high watermark, summed over assigned partitions (0 if unknown)."""
        total = 0
        for partition in self.assigned:
            highwater = self._consumer.highwater(TopicPartition(self.topics.events, partition))
            if highwater is not None:
                total += max(0, highwater - self.next_offsets.get(partition, 0))
        return total
