"""The engine: the one object the consumer feeds and the app reads. Pure: frames and time in,
frames out; no I/O, no clock.

    apply(events, now=)     quarantine → de-duplicate → watermark → state update   (per batch)
    hub_states()            every registered hub at the watermark (HUB_STATE_SCHEMA)
    evaluate()              hub rules at the watermark (SIGNAL_SCHEMA)
    checkpoint(partitions)  / load_checkpoint(data)   state of some partitions, exactly
"""

from __future__ import annotations

import functools
import io
import json
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Concatenate, ParamSpec, TypeVar

import polars as pl

from core import hub_rules
from core.config import RiskConfig
from core.dedup import DedupIndex
from core.events import empty_rejects
from core.measures import HUB_STATE_SCHEMA, measure
from core.network_rules import network_signals
from core.state import COMPACT_AFTER, HUB_ID, HubStore

__all__ = ["HUB_STATE_SCHEMA", "ApplyResult", "Engine", "network_signals"]

_CHECKPOINT_VERSION = 1
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _locked(method: Callable[Concatenate[Engine, _P], _R]) -> Callable[Concatenate[Engine, _P], _R]:
    """Run ``method`` holding the engine's lock."""

    @functools.wraps(method)
    def run(self: Engine, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._lock:
            return method(self, *args, **kwargs)

    return run


@dataclass(frozen=True)
class ApplyResult:
    """What a batch did: counts, and the quarantined events (index, field, reason)."""

    applied: int
    duplicate: int
    late: int
    quarantined: pl.DataFrame


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _keyed(registry: pl.DataFrame) -> pl.DataFrame:
    """The registry with hub ids as the store holds them (cast once, not at every tick)."""
    return registry.with_columns(pl.col("hub_id").cast(HUB_ID))


class Engine:
    """Event-time state of the hubs of the partitions this process owns.

    Safe to share between threads: the consumer applies batches in a worker thread while the
    API and the evaluation tick read; every public method holds one re-entrant lock, so a read
    never sees (or merges) a half-applied batch.
    """

    def __init__(self, registry: pl.DataFrame, config: RiskConfig | None = None) -> None:
        self._lock = threading.RLock()
        self.registry = registry
        self._keyed_registry = _keyed(registry)
        self.config = config or RiskConfig()
        self.store = HubStore()
        self.dedup = DedupIndex()
        self.partition_max_ms: dict[int, int] = {}
        # hub_states() is computed once per change of state (evaluate() and the API reuse it)
        self._version = 0
        self._states: tuple[int, pl.DataFrame] | None = None

    @_locked
    def set_registry(self, registry: pl.DataFrame) -> None:
        """Hubs added or changed at run time."""
        self.registry = registry
        self._keyed_registry = _keyed(registry)
        self._version += 1

    # -- event time ------------------------------------------------------------------------

    def _watermark_ms(self) -> int | None:
        if not self.partition_max_ms:
            return None
        return min(self.partition_max_ms.values()) - self.config.allowed_lateness_s * 1000

    @_locked
    def watermark(self) -> datetime | None:
        """Min over active partitions of the highest event time seen, less the allowed lateness."""
        watermark = self._watermark_ms()
        return None if watermark is None else _datetime(watermark)

    @_locked
    def partition_watermarks(self) -> dict[int, datetime]:
        """Each partition's own watermark."""
        lateness = self.config.allowed_lateness_s * 1000
        return {p: _datetime(ms - lateness) for p, ms in sorted(self.partition_max_ms.items())}

    # -- the batch -------------------------------------------------------------------------

    @_locked
    def apply(self, events: pl.DataFrame, *, now: datetime) -> ApplyResult:
        """Apply validated events (``EVENT_SCHEMA`` + ``index`` + ``partition``).

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
            )
            events = events.filter(~future)
        events, duplicate = self.dedup.split(events)
        watermark = self._watermark_ms()
        late = 0 if watermark is None else int((events["ts_ms"] < watermark).sum())
        for partition, max_ms in (
            events.group_by("partition").agg(pl.col("ts_ms").max()).iter_rows()
        ):
            self.partition_max_ms[partition] = max(
                self.partition_max_ms.get(partition, max_ms), max_ms
            )
        self.store.apply(events)
        self._version += 1
        if len(self.store.queued) >= COMPACT_AFTER:  # a replay without evaluation ticks
            self._compact()
        return ApplyResult(events.height, duplicate, late, quarantined)

    # -- reading ---------------------------------------------------------------------------

    def _compact(self) -> int | None:
        watermark = self._watermark_ms()
        settle_s = None if watermark is None else watermark // 1000
        self.store.compact(
            settle_s,
            horizon_min=self.config.bucket_horizon_s // 60,
            max_transit_s=self.config.max_transit_s,
        )
        if watermark is not None:
            self.dedup.prune(watermark // 60_000 - self.config.dedup_horizon_s // 60)
        return watermark

    @_locked
    def hub_states(self) -> pl.DataFrame:
        """Every registered hub at the watermark, with its levels (``HUB_STATE_SCHEMA``)."""
        version = self._version
        if self._states is not None and self._states[0] == version:
            return self._states[1]
        watermark = self._compact()
        measures = measure(
            self.store, self._keyed_registry, watermark_ms=watermark, config=self.config
        )
        states = hub_rules.classify(measures, self.config).select(list(HUB_STATE_SCHEMA))
        self._states = (version, states)
        return states

    @_locked
    def evaluate(self) -> pl.DataFrame:
        """Hub-scope signals at the watermark (``SIGNAL_SCHEMA``); none before any event."""
        if self._watermark_ms() is None:
            return hub_rules.signals(pl.DataFrame(schema=HUB_STATE_SCHEMA))
        return hub_rules.signals(self.hub_states())

    @_locked
    def hub_series(self, hub_id: str, *, minutes: int = 180) -> pl.DataFrame:
        """Per-minute ``arrivals``, ``departures`` and end-of-minute ``backlog``, oldest first."""
        watermark = self._compact()
        buckets = self.store.buckets.filter(pl.col("hub_id") == hub_id)
        if buckets.height == 0 or watermark is None:
            return pl.DataFrame(
                schema={
                    "minute": pl.Datetime("ms", "UTC"),
                    "arrivals": pl.Int64(),
                    "departures": pl.Int64(),
                    "backlog": pl.Int64(),
                }
            )
        last = int(buckets["minute"].max())  # type: ignore[arg-type]
        current = self.store.backlog().filter(pl.col("hub_id") == hub_id)["backlog"]
        now_backlog = int(current[0]) if current.len() else 0
        series = (
            pl.DataFrame({"minute": pl.int_range(last - minutes + 1, last + 1, eager=True)})
            .join(buckets.drop("hub_id"), on="minute", how="left")
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

    # -- partitions and checkpoints --------------------------------------------------------

    @_locked
    def drop_partitions(self, partitions: set[int]) -> None:
        """Forget hubs, keys and watermarks of revoked partitions."""
        self.store.drop_partitions(partitions)
        self.dedup.drop_partitions(partitions)
        for partition in partitions:
            self.partition_max_ms.pop(partition, None)
        self._version += 1

    @_locked
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
        }
        marks = {
            str(p): ms
            for p, ms in self.partition_max_ms.items()
            if partitions is None or p in partitions
        }
        header = json.dumps(
            {"v": _CHECKPOINT_VERSION, "partition_max_ms": marks, "frames": list(frames)}
        ).encode()
        parts = [struct.pack(">I", len(header)), header]
        for frame in frames.values():
            buffer = io.BytesIO()
            frame.write_ipc(buffer, compression="lz4")
            data = buffer.getvalue()
            parts += [struct.pack(">Q", len(data)), data]
        return b"".join(parts)

    @_locked
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
        self._version += 1
        for partition, max_ms in header["partition_max_ms"].items():
            self.partition_max_ms[int(partition)] = max(
                self.partition_max_ms.get(int(partition), max_ms), max_ms
            )

    @classmethod
    def restore(
        cls, data: bytes, registry: pl.DataFrame, config: RiskConfig | None = None
    ) -> Engine:
        """A new engine holding exactly the state of ``checkpoint()``."""
        engine = cls(registry, config)
        engine.load_checkpoint(data)
        return engine
