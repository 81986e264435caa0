"""The engine: the one object the consumer feeds. Pure: frames and time in, frames out; no I/O,
no clock. One owner (the consuming worker) calls it; readers get the immutable frames it returns.

    ingest(events, now=)    quarantine → de-duplicate → step of each event → pending   (per batch)
    run_due_steps(idle=)    every event-time step the watermark passed, in order: the pending
                            events before it applied, then every registered hub at that step
    apply(events, now=)     ingest + run_due_steps (tests, benchmarks)
    hub_states()            every registered hub at the last step evaluated (HUB_STATE_SCHEMA)
    evaluate()              hub rules at that step (SIGNAL_SCHEMA)
    checkpoint(partitions)  / load_checkpoint(data)   state of some partitions, exactly

Steps and their determinism: ``core.steps``.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from core import hub_rules
from core.config import RiskConfig
from core.dedup import DedupIndex
from core.events import empty_rejects
from core.measures import HUB_STATE_SCHEMA, measure
from core.network_rules import network_signals
from core.sensitivity import empty_warnings
from core.state import HUB_ID, HubStore
from core.steps import assign_steps, due_steps
from core.vocabulary import REASON_DTYPE, RejectReason

__all__ = ["HUB_STATE_SCHEMA", "ApplyResult", "Engine", "StepResult", "network_signals"]

_CHECKPOINT_VERSION = 2
PENDING_SCHEMA: dict[str, pl.DataType] = {
    "hub_id": pl.String(),
    "kind": pl.String(),
    "parcels": pl.Int64(),
    "from_hub": pl.String(),
    "to_hub": pl.String(),
    "ts_ms": pl.Int64(),
    "minute": pl.Int64(),
    "partition": pl.Int32(),
    "step_ms": pl.Int64(),
}
"""Events ingested and waiting for their step (what the state update needs of them)."""


@dataclass(frozen=True)
class ApplyResult:
    """What a batch did: counts, and the quarantined events (index, field, reason)."""

    applied: int
    duplicate: int
    late: int
    quarantined: pl.DataFrame


@dataclass(frozen=True)
class StepResult:
    """One evaluation point: every registered hub as of ``step``, and whose alerts it decides.

    ``partitions`` are the partitions evaluated at this step for the first time (a partition
    rebuilt from a checkpoint may already be past it); ``hubs_by_partition`` maps the hubs
    this engine holds to their partition; ``buckets`` is the per-minute history as of the step.
    """

    step: datetime
    hub_states: pl.DataFrame
    partitions: frozenset[int]
    hubs_by_partition: pl.DataFrame  # hub_id (String), partition
    buckets: pl.DataFrame


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _keyed(registry: pl.DataFrame) -> pl.DataFrame:
    """The registry with hub ids as the store holds them (cast once, not at every tick)."""
    return registry.with_columns(pl.col("hub_id").cast(HUB_ID))


class Engine:
    """Event-time state of the hubs of the partitions this process owns.

    Not thread-safe, on purpose: one owner applies and evaluates in sequence; the frames it
    returns are immutable and may be read anywhere.
    """

    def __init__(self, registry: pl.DataFrame, config: RiskConfig | None = None) -> None:
        self.registry = registry
        self._keyed_registry = _keyed(registry)
        self.config = config or RiskConfig()
        self.store = HubStore(transit_horizon_s=self.config.in_transit_horizon_s)
        self.dedup = DedupIndex()
        self.partition_max_ms: dict[int, int] = {}
        self.step_ms = self.config.evaluation_step_s * 1000
        self.pending = pl.DataFrame(schema=PENDING_SCHEMA)
        self.evaluated_ms: dict[int, int] = {}  # partition → last step evaluated for its hubs
        self.last_step_ms: int | None = None
        self.assigned: set[int] = set()  # partitions the owner holds (heard from or not)
        self._watermark_floor_ms: int | None = None  # the watermark never steps back
        self.warnings = empty_warnings()  # external warnings (core.sensitivity), set by the owner
        # hub_states() is computed once per change of state (evaluate() and the API reuse it)
        self._version = 0
        self._states: tuple[int, pl.DataFrame] | None = None

    def set_registry(self, registry: pl.DataFrame) -> None:
        """Hubs added or changed at run time."""
        self.registry = registry
        self._keyed_registry = _keyed(registry)
        self._version += 1

    # -- event time ------------------------------------------------------------------------

    def _watermark_ms(
        self,
        idle: Collection[int] = (),
        *,
        quiet_ms: Mapping[int, int] | None = None,
        feed_stopped_for_ms: int | None = None,
    ) -> int | None:
        """The slowest active partition's highest time less the lateness; idle partitions do
        not hold it back; a quiet one not known to be drained (``quiet_ms``: for how long it
        has been quiet) holds it at its highest time plus that quiet time, so event time moves
        past it no faster than the wall clock; once every partition is quiet
        (``feed_stopped_for_ms`` given), event time goes on from the newest event at the pace
        of the wall clock."""
        marks = self.partition_max_ms
        if not marks:
            return self._watermark_floor_ms
        lateness = self.config.allowed_lateness_s * 1000
        if any(p not in marks and p not in idle for p in self.assigned):
            return self._watermark_floor_ms  # an assigned partition not heard from holds it
        quiet = quiet_ms or {}
        active = [ms + quiet.get(p, 0) for p, ms in marks.items() if p not in idle]
        if feed_stopped_for_ms is not None:
            watermark = max(marks.values()) - lateness + feed_stopped_for_ms
        elif active:
            watermark = min(active) - lateness
        else:
            watermark = max(marks.values()) - lateness
        floor = self._watermark_floor_ms
        return watermark if floor is None else max(floor, watermark)

    def assign(self, partitions: Collection[int]) -> None:
        """The partitions the owner holds: one not heard from yet holds the watermark back
        (unless idle), and every one of them is evaluated at each step."""
        self.assigned = set(partitions)

    def watermark(self) -> datetime | None:
        """Min over active partitions of the highest event time seen, less the allowed lateness."""
        watermark = self._watermark_ms()
        return None if watermark is None else _datetime(watermark)

    def partition_watermarks(self) -> dict[int, datetime]:
        """Each partition's own watermark."""
        lateness = self.config.allowed_lateness_s * 1000
        return {p: _datetime(ms - lateness) for p, ms in sorted(self.partition_max_ms.items())}

    # -- the batch -------------------------------------------------------------------------

    def ingest(self, events: pl.DataFrame, *, now: datetime) -> ApplyResult:
        """Take validated events (``EVENT_SCHEMA`` + ``index`` + ``partition``, in record order)
        into the pending queue, each with its step; the state changes when the step is run.

        ``now`` (the wall clock) only decides which events are stamped too far in the future.
        """
        ts_ms = pl.col("ts").dt.epoch("ms")
        events = events.with_columns(ts_ms=ts_ms, minute=ts_ms // 60_000)
        limit_ms = _ms(now) + self.config.max_future_skew_s * 1000
        quarantined = empty_rejects()
        newest = events["ts_ms"].max()
        if newest is not None and int(newest) > limit_ms:  # type: ignore[arg-type]
            future = pl.col("ts_ms") > limit_ms
            quarantined = events.filter(future).select(
                pl.col("index").cast(pl.UInt32),
                pl.lit("ts").alias("field"),
                pl.lit(
                    f"stamped more than {self.config.max_future_skew_s} s ahead of the wall "
                    "clock (clock skew): quarantined"
                ).alias("reason"),
                pl.lit(RejectReason.FUTURE_TS.value, REASON_DTYPE).alias("code"),
            )
            events = events.filter(~future)
        events, duplicate = self.dedup.split(events)
        stepped = assign_steps(
            events,
            step_ms=self.step_ms,
            lateness_ms=self.config.allowed_lateness_s * 1000,
            partition_max_ms=self.partition_max_ms,
            evaluated_ms=self.evaluated_ms,
        )
        late = int(stepped["late"].sum()) if stepped.height else 0
        for partition, max_ms in (
            stepped.group_by("partition").agg(pl.col("ts_ms").max()).iter_rows()
        ):
            self.partition_max_ms[partition] = max(
                self.partition_max_ms.get(partition, max_ms), max_ms
            )
        if stepped.height:
            queued = stepped.select(
                pl.col(name).cast(dtype) for name, dtype in PENDING_SCHEMA.items()
            )
            self.pending = pl.concat([self.pending, queued], rechunk=False)
        return ApplyResult(stepped.height, duplicate, late, quarantined)

    def due_steps(
        self,
        idle: Collection[int] = (),
        *,
        quiet_ms: Mapping[int, int] | None = None,
        feed_stopped_for_ms: int | None = None,
    ) -> list[int]:
        """The steps (epoch ms) the watermark has passed and that are not evaluated yet."""
        watermark = self._watermark_ms(
            idle, quiet_ms=quiet_ms, feed_stopped_for_ms=feed_stopped_for_ms
        )
        pending_steps = self.pending["step_ms"]
        first = pending_steps.min() if pending_steps.len() else None
        # Each partition from its own last step: one restored behind the others, or one with no
        # step yet (replayed from the start after a rebalance, or first heard of after the
        # others' steps ran), whose steps would otherwise never be evaluated for its hubs.
        progress = dict(self.evaluated_ms)
        unevaluated = self.pending.filter(~pl.col("partition").is_in(list(progress)))
        for partition, first_step in (
            unevaluated.group_by("partition").agg(pl.col("step_ms").min()).iter_rows()
        ):
            progress[partition] = first_step - self.step_ms
        last = min(progress.values()) if progress else self.last_step_ms
        busy = set(pending_steps.unique().to_list()) if pending_steps.len() else set()
        return due_steps(
            last_step_ms=last,
            first_pending_step_ms=None if first is None else int(first),  # type: ignore[arg-type]
            watermark_ms=watermark,
            step_ms=self.step_ms,
            busy_steps=busy,
        )

    def run_due_steps(
        self,
        idle: Collection[int] = (),
        *,
        quiet_ms: Mapping[int, int] | None = None,
        feed_stopped_for_ms: int | None = None,
    ) -> list[StepResult]:
        """Run every due step in order (see ``due_steps``); the results, oldest first."""
        steps = self.due_steps(idle, quiet_ms=quiet_ms, feed_stopped_for_ms=feed_stopped_for_ms)
        if steps:
            watermark = self._watermark_ms(
                idle, quiet_ms=quiet_ms, feed_stopped_for_ms=feed_stopped_for_ms
            )
            self._watermark_floor_ms = watermark
        return [self.run_step(step) for step in steps]

    def run_step(self, step_ms: int) -> StepResult:
        """Apply the pending events of steps up to ``step_ms``, settle, and measure every hub."""
        due = pl.col("step_ms") <= step_ms
        ready, self.pending = self.pending.filter(due), self.pending.filter(~due)
        self.store.apply(ready.drop("step_ms"))
        self.store.compact(
            step_ms // 1000,
            horizon_min=self.config.bucket_horizon_s // 60,
            max_transit_s=self.config.max_transit_s,
        )
        self.dedup.prune(step_ms // 60_000 - self.config.dedup_horizon_s // 60)
        held = set(self.partition_max_ms) | self.assigned
        fresh = frozenset(p for p in held if self.evaluated_ms.get(p, -1) < step_ms)
        for partition in held:
            self.evaluated_ms[partition] = max(self.evaluated_ms.get(partition, step_ms), step_ms)
        self.last_step_ms = max(step_ms, self.last_step_ms or step_ms)
        self._version += 1
        return StepResult(
            step=_datetime(step_ms),
            hub_states=self._measure(step_ms),
            partitions=fresh,
            hubs_by_partition=self.store.hubs.select(pl.col("hub_id").cast(pl.String), "partition"),
            buckets=self.store.buckets,
        )

    def apply(self, events: pl.DataFrame, *, now: datetime) -> ApplyResult:
        """``ingest`` then ``run_due_steps``: the state as of the last step the watermark passed."""
        result = self.ingest(events, now=now)
        self.run_due_steps()
        return result

    # -- reading ---------------------------------------------------------------------------

    def _measure(self, step_ms: int | None) -> pl.DataFrame:
        measures = measure(
            self.store, self._keyed_registry, watermark_ms=step_ms, config=self.config
        )
        states = hub_rules.classify(
            measures, self.config, warnings=self.warnings, step_ms=step_ms
        ).select(list(HUB_STATE_SCHEMA))
        self._states = (self._version, states)
        return states

    def evaluated_through(self) -> datetime | None:
        """The last step evaluated (the time every frame read from the engine describes)."""
        return None if self.last_step_ms is None else _datetime(self.last_step_ms)

    def hub_states(self) -> pl.DataFrame:
        """Every registered hub at the last step evaluated (``HUB_STATE_SCHEMA``); before the
        first step, every registered hub as unknown."""
        if self._states is not None and self._states[0] == self._version:
            return self._states[1]
        return self._measure(self.last_step_ms)

    def evaluate(self) -> pl.DataFrame:
        """Hub-scope signals at the last step (``SIGNAL_SCHEMA``); none before any step."""
        if self.last_step_ms is None:
            return hub_rules.signals(pl.DataFrame(schema=HUB_STATE_SCHEMA))
        return hub_rules.signals(self.hub_states())

    def hub_series(self, hub_id: str, *, minutes: int = 180) -> pl.DataFrame:
        """Per-minute ``arrivals``, ``departures`` and end-of-minute ``backlog``, oldest first."""
        return hub_series(self.store.buckets, self.hub_states(), hub_id, minutes=minutes)

    # -- partitions and checkpoints --------------------------------------------------------

    def drop_partitions(self, partitions: set[int]) -> None:
        """Forget hubs, keys and watermarks of revoked partitions."""
        self.store.drop_partitions(partitions)
        self.dedup.drop_partitions(partitions)
        self.pending = self.pending.filter(~pl.col("partition").is_in(list(partitions)))
        for partition in partitions:
            self.partition_max_ms.pop(partition, None)
            self.evaluated_ms.pop(partition, None)
        self._version += 1

    def checkpoint(self, partitions: set[int] | None = None) -> bytes:
        """The state of ``partitions`` (all when None) as bytes."""
        self.store.compact(None)
        store = self.store
        hubs = (
            store.hubs
            if partitions is None
            else store.hubs.filter(pl.col("partition").is_in(list(partitions)))
        )
        ids = hubs["hub_id"].implode()
        frames = {
            "hubs": hubs,
            "buckets": store.buckets.filter(pl.col("hub_id").is_in(ids)),
            "flows": store.flows.filter(pl.col("hub_id").is_in(ids)),
            "lanes": store.lanes_of(hubs["hub_id"]),
            "dedup": self.dedup.frame(partitions),
            "pending": self.pending
            if partitions is None
            else self.pending.filter(pl.col("partition").is_in(list(partitions))),
        }

        def of(marks: dict[int, int]) -> dict[str, int]:
            return {str(p): ms for p, ms in marks.items() if partitions is None or p in partitions}

        header = json.dumps(
            {
                "v": _CHECKPOINT_VERSION,
                "partition_max_ms": of(self.partition_max_ms),
                "evaluated_ms": of(self.evaluated_ms),
                "frames": list(frames),
            }
        ).encode()
        parts = [struct.pack(">I", len(header)), header]
        for frame in frames.values():
            buffer = io.BytesIO()
            frame.write_ipc(buffer, compression="lz4")
            data = buffer.getvalue()
            parts += [struct.pack(">Q", len(data)), data]
        return b"".join(parts)

    def load_checkpoint(self, data: bytes) -> None:
        """Add the state of a checkpoint (partitions this engine does not hold yet)."""
        (length,) = struct.unpack_from(">I", data)
        header = json.loads(data[4 : 4 + length])
        if header["v"] != _CHECKPOINT_VERSION:
            raise ValueError(f"unknown engine checkpoint version {header['v']!r}")
        offset = 4 + length
        frames: dict[str, pl.DataFrame] = {}
        for name in header["frames"]:
            (size,) = struct.unpack_from(">Q", data, offset)
            frames[name] = pl.read_ipc(io.BytesIO(data[offset + 8 : offset + 8 + size]))
            offset += 8 + size
        self.store.add(
            HubStore(
                hubs=frames["hubs"],
                buckets=frames["buckets"],
                flows=frames["flows"],
                lanes=frames["lanes"],
            )
        )
        self.dedup.load(frames["dedup"])
        pending = frames["pending"].cast(PENDING_SCHEMA)  # type: ignore[arg-type]
        self.pending = pl.concat([self.pending, pending])
        self._version += 1
        for partition, max_ms in header["partition_max_ms"].items():
            self.partition_max_ms[int(partition)] = max(
                self.partition_max_ms.get(int(partition), max_ms), max_ms
            )
        for partition, step_ms in header["evaluated_ms"].items():
            self.evaluated_ms[int(partition)] = step_ms
            if self.last_step_ms is None:
                self.last_step_ms = step_ms

    @classmethod
    def restore(
        cls, data: bytes, registry: pl.DataFrame, config: RiskConfig | None = None
    ) -> Engine:
        """A new engine holding exactly the state of ``checkpoint()``."""
        engine = cls(registry, config)
        engine.load_checkpoint(data)
        return engine


def hub_series(
    buckets: pl.DataFrame, hub_states: pl.DataFrame, hub_id: str, *, minutes: int = 180
) -> pl.DataFrame:
    """Per-minute ``arrivals``, ``departures`` and end-of-minute ``backlog`` of one hub, oldest
    first, from a step's buckets and hub states (``StepResult``; immutable, read anywhere)."""
    own = buckets.filter(pl.col("hub_id") == hub_id)
    current = hub_states.filter(pl.col("hub_id") == hub_id)["backlog"]
    if own.height == 0 or current.len() == 0 or current[0] is None:
        return pl.DataFrame(
            schema={
                "minute": pl.Datetime("ms", "UTC"),
                "arrivals": pl.Int64(),
                "departures": pl.Int64(),
                "backlog": pl.Int64(),
            }
        )
    last = int(own["minute"].max())  # type: ignore[arg-type]
    now_backlog = int(current[0])
    series = (
        pl.DataFrame({"minute": pl.int_range(last - minutes + 1, last + 1, eager=True)})
        .join(own.drop("hub_id"), on="minute", how="left")
        .fill_null(0)
        .with_columns(net=pl.col("arrivals") - pl.col("departures"))
    )
    # Backlog at the end of each minute: today's backlog less the net flows after it.
    after = series["net"].reverse().cum_sum().reverse().shift(-1).fill_null(0)
    return series.select(
        (pl.col("minute") * 60_000).cast(pl.Datetime("ms", "UTC")).alias("minute"),
        "arrivals",
        "departures",
        (pl.lit(now_backlog) - after).clip(lower_bound=0).alias("backlog"),
    )
