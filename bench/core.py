"""The Polars core alone, at national scale: no Kafka, no decode, frames straight into the engine.

    .venv/bin/python -m bench.core [--hubs 5000] [--runs 7]

- **apply**: events/s through ``Engine.apply`` on batches of 20,000 realistic events — per-minute
  counts of collections, trucks out and in on lanes between hubs (``to_hub``/``from_hub``),
  deliveries, and a backlog report from every hub every 5 min (one simulated minute of a
  5,000-hub network is one batch). A run is 32
  consecutive batches, as in a replay (no evaluation tick, so the merges the engine does every
  16 batches are in the time), on an engine that already holds an hour of state. Target ≥ 2 M/s.
- **tick**: one full evaluation tick on 3 h of state — ``hub_states()`` + ``evaluate()`` +
  ``network_signals`` — with a new 20,000-event batch (a whole minute) applied before each run.
  Target ≤ 20 ms. Also the tick as in service: every 2 s, after a thirtieth of a minute.
- **memory**: the engine's state after 3 h of the network (180 batches, 3.6 M events): the
  estimated size of its frames, and the growth of the process's resident memory. Target ≤ 200 MB.

Prints a markdown table: median of the runs, with min and max.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from core.engine import Engine, network_signals
from core.events import EVENT_SCHEMA
from core.registry import HUB_SCHEMA

START = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)
CARRIERS = ("ZTO", "YTO", "YUNDA", "STO", "SF", "JD", "JT", "EMS")
PROVINCES = tuple(f"P{i:02d}" for i in range(31))
PARTITIONS = 12
BATCH_EVENTS_PER_HUB = 4  # 5,000 hubs × 4 = one 20,000-event batch per simulated minute
LANE_OFFSETS = (8, 800, 2_400)  # multiples of 8: a lane stays within its carrier
APPLY_RUN_BATCHES = 32


def registry(hubs: int, seed: int = 1) -> pl.DataFrame:
    """``hubs`` hubs over 8 carriers and 31 provinces; one in ten a key node."""
    rng = np.random.default_rng(seed)
    index = np.arange(hubs)
    # a carrier's hubs are of a size (±5 %), so that what its lanes carry in and out balances
    carrier_size = np.linspace(40_000, 250_000, len(CARRIERS))[index % len(CARRIERS)]
    sort_per_hour = (carrier_size * rng.uniform(0.95, 1.05, hubs)).astype(np.int64)
    return pl.DataFrame(
        {
            "hub_id": [f"{CARRIERS[i % 8]}-{i:05d}" for i in index],
            "carrier": [CARRIERS[i % 8] for i in index],
            "name": [f"hub {i}" for i in index],
            "province": [PROVINCES[i % 31] for i in index],
            "city": [f"C{i % 300:03d}" for i in index],
            "lat": rng.uniform(20, 45, hubs),
            "lon": rng.uniform(100, 125, hubs),
            "tier": ["national" if i % 10 == 0 else "regional" for i in index],
            "storage_capacity": sort_per_hour * 3,
            "sort_capacity_per_hour": sort_per_hour,
            "key_node": index % 10 == 0,
        },
        schema=HUB_SCHEMA,
    )


@dataclass(frozen=True)
class Network:
    """Hub ids, each hub's partition and lanes, and its typical minute."""

    hub_ids: np.ndarray
    partitions: np.ndarray
    per_minute: np.ndarray  # typical collections (and deliveries) per minute

    @classmethod
    def of(cls, hubs: pl.DataFrame) -> Network:
        count = hubs.height
        return cls(
            hub_ids=hubs["hub_id"].to_numpy(),
            partitions=np.arange(count) % PARTITIONS,
            per_minute=hubs["sort_capacity_per_hour"].to_numpy() / 60 / 5,
        )

    def minute(self, number: int, rng: np.random.Generator) -> pl.DataFrame:
        """Simulated minute ``number``: exactly 4 events per hub (``EVENT_SCHEMA`` + ``index`` +
        ``partition``): local collections; a truck out on lane k of the minute (k = minute
        mod 3) to hub i + LANE_OFFSETS[k] (same carrier); the truck in on that lane from hub
        i − LANE_OFFSETS[k], with what that hub sent; and last-mile deliveries, or every 5 min
        a backlog report. Arrivals and departures balance except at the hubs under pressure."""
        count = len(self.hub_ids)
        hub = np.arange(count)
        offset = LANE_OFFSETS[number % len(LANE_OFFSETS)]
        reporting = (hub + number) % 5 == 0
        # one hub in fifty is under pressure: it collects three times its share and holds
        # two thirds of its storage or more (some blue to red signals at every tick)
        hot = hub % 50 == 1
        collected = rng.poisson(np.where(hot, 3, 1) * self.per_minute)
        sent = rng.poisson(2 * self.per_minute)
        delivered = rng.poisson(self.per_minute)
        held = np.where(hot, rng.uniform(600, 950, count), rng.uniform(30, 120, count))
        backlog = (self.per_minute * held).astype(np.int64)
        source = (hub - offset) % count
        parcels = np.stack(
            [collected, sent, sent[source], np.where(reporting, backlog, delivered)], axis=1
        )
        kinds = np.stack(
            [
                np.full(count, "arrival"),
                np.full(count, "departure"),
                np.full(count, "arrival"),
                np.where(reporting, "backlog", "departure"),
            ],
            axis=1,
        )
        nobody = np.full(count, None)
        from_hub = np.stack([nobody, nobody, self.hub_ids[source], nobody], axis=1)
        to_hub = np.stack([nobody, self.hub_ids[(hub + offset) % count], nobody, nobody], axis=1)
        second_ms = rng.integers(0, 60_000, (count, 4))
        base_ms = int((START + timedelta(minutes=number)).timestamp() * 1000)
        frame = pl.DataFrame(
            {
                "carrier": np.repeat([CARRIERS[i % 8] for i in range(count)], 4),
                "hub_id": np.repeat(self.hub_ids, 4),
                "ts": (base_ms + second_ms).ravel(),
                "kind": kinds.ravel(),
                "parcels": parcels.ravel(),
                "from_hub": pl.Series(from_hub.ravel().tolist(), dtype=pl.String),
                "to_hub": pl.Series(to_hub.ravel().tolist(), dtype=pl.String),
                "partition": np.repeat(self.partitions, 4),
            },
            schema_overrides={"ts": pl.Int64},
        )
        return frame.with_row_index("index").select(
            "index",
            "carrier",
            pl.concat_str(pl.col("hub_id"), pl.lit(f"-{number}-"), pl.col("index")).alias(
                "event_id"
            ),
            "hub_id",
            pl.col("ts").cast(EVENT_SCHEMA["ts"]),
            pl.col("kind").cast(EVENT_SCHEMA["kind"]),
            "parcels",
            "from_hub",
            "to_hub",
            pl.col("partition").cast(pl.Int32),
        )

    def minutes(self, first: int, count: int, seed: int = 3) -> Iterator[pl.DataFrame]:
        """``count`` consecutive minutes from ``first``, deterministic."""
        for number in range(first, first + count):
            yield self.minute(number, np.random.default_rng([seed, number]))


def _now(number: int) -> datetime:
    return START + timedelta(minutes=number + 1)


def _feed(engine: Engine, network: Network, first: int, count: int, *, tick_every: int) -> None:
    """Apply ``count`` minutes, with an evaluation tick (it settles flows) every few minutes."""
    for offset, batch in enumerate(network.minutes(first, count)):
        engine.apply(batch, now=_now(first + offset))
        if offset % tick_every == tick_every - 1:
            engine.hub_states()


def bench_apply(engine: Engine, network: Network, first: int, runs: int) -> list[float]:
    """Events/s of ``apply`` over 32 batches per run (batches built before the clock starts)."""
    rates = []
    for run in range(runs):
        start_minute = first + run * APPLY_RUN_BATCHES
        batches = list(network.minutes(start_minute, APPLY_RUN_BATCHES))
        started = time.perf_counter()
        for offset, batch in enumerate(batches):
            engine.apply(batch, now=_now(start_minute + offset))
        elapsed = time.perf_counter() - started
        rates.append(sum(b.height for b in batches) / elapsed)
        engine.hub_states()  # a tick between runs, as in service (not timed)
    return rates


def _tick(engine: Engine) -> None:
    states = engine.hub_states()
    engine.evaluate()
    watermark = engine.watermark()
    assert watermark is not None
    network_signals(states, at=watermark, config=engine.config)


def bench_tick(engine: Engine, network: Network, first: int, runs: int) -> list[float]:
    """Milliseconds of one evaluation tick, a new batch applied before each."""
    times = []
    for run, batch in enumerate(network.minutes(first, runs)):
        engine.apply(batch, now=_now(first + run))
        started = time.perf_counter()
        _tick(engine)
        times.append((time.perf_counter() - started) * 1000)
    return times


def bench_service_tick(engine: Engine, network: Network, first: int, minutes: int) -> list[float]:
    """Milliseconds of a tick as in service: every 2 s, after a thirtieth of a minute's events."""
    times = []
    for offset, batch in enumerate(network.minutes(first, minutes)):
        for part in batch.iter_slices(batch.height // 30):
            engine.apply(part, now=_now(first + offset))
            started = time.perf_counter()
            _tick(engine)
            times.append((time.perf_counter() - started) * 1000)
    return times


def state_mb(engine: Engine) -> float:
    """Estimated size of every frame the engine holds, in MB."""
    store = engine.store
    frames = [
        store.hubs,
        *store.buckets,
        *store.flows,
        *store.lanes,
        *engine.dedup.minutes.values(),
    ]
    return float(sum(frame.estimated_size() for frame in frames)) / 1e6


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def _row(name: str, unit: str, values: list[float], target: str, fmt: str = ",.0f") -> str:
    median = statistics.median(values)
    spread = f"{min(values):{fmt}} – {max(values):{fmt}}" if len(values) > 1 else "—"
    return f"| {name} | {median:{fmt}} {unit} | {spread} | {len(values)} | {target} |"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.core", description=__doc__)
    parser.add_argument("--hubs", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    hubs = registry(args.hubs)
    network = Network.of(hubs)
    step: Callable[[str], None] = lambda message: print(f"… {message}", flush=True)  # noqa: E731

    gc.collect()
    before = rss_mb()
    engine = Engine(hubs)
    step(f"3 h of a {args.hubs:,}-hub network into the engine (memory)")
    _feed(engine, network, 0, 180, tick_every=1)
    engine.hub_states()
    gc.collect()
    memory = state_mb(engine)
    rss_growth = rss_mb() - before

    step("evaluation ticks on 3 h of state")
    ticks = bench_tick(engine, network, 180, args.runs)

    step("evaluation ticks as in service (every 2 s of a minute's events)")
    service_ticks = bench_service_tick(engine, network, 180 + args.runs, 2)

    step("apply throughput (an hour of state first)")
    fresh = Engine(hubs)
    _feed(fresh, network, 0, 60, tick_every=1)
    rates = bench_apply(fresh, network, 60, args.runs)

    events = args.hubs * BATCH_EVENTS_PER_HUB
    print()
    print(f"Core engine, {args.hubs:,} hubs, batches of {events:,} events (`python -m bench.core`)")
    print()
    print("| measure | median | min – max | runs | target |")
    print("| --- | ---: | ---: | ---: | --- |")
    print(_row("`Engine.apply` throughput", "events/s", rates, "≥ 2,000,000 events/s"))
    print(_row("evaluation tick after a 20,000-event batch", "ms", ticks, "≤ 20 ms", ",.1f"))
    print(_row("evaluation tick every 2 s of live traffic", "ms", service_ticks, "—", ",.1f"))
    print(_row("state after 3 h (frames' estimated size)", "MB", [memory], "≤ 200 MB", ",.1f"))
    print(_row("resident memory growth over those 3 h", "MB", [rss_growth], "—", ",.1f"))


if __name__ == "__main__":
    main()
