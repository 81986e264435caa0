"""The Polars core alone, at national scale: no Kafka, no decode, frames straight into the engine.

    .venv/bin/python -m bench.core [--hubs 5000] [--runs 7]

- **replay**: events/s through ``Engine.ingest`` + ``Engine.run_due_steps`` on batches of 20,000
  realistic events — per-minute counts of collections, trucks out and in on lanes between hubs
  (``to_hub``/``from_hub``), deliveries, and a backlog report from every hub every 5 min (one
  simulated minute of a 5,000-hub network is one batch, and completes one 60 s event-time
  step: its events applied, every hub measured). A run is 32 consecutive batches, as in a
  replay, on an engine that already holds an hour of state. Target ≥ 2 M/s. Also ``ingest``
  alone (quarantine, de-duplication, each event's step; the steps run off the clock).
- **step**: one evaluation step on 3 h of state, as the service runs it: the step
  (``run_due_steps``: a minute's events applied, every hub measured) and its rules
  (``core.evaluate.step_signals`` with the network's sums from ``partition_sums``). Target
  ≤ 20 ms.
- **memory**: the engine's state after 3 h of the network (180 batches, 3.6 M events, every step
  run): the estimated size of its frames, and the growth of the process's resident memory.
  Target ≤ 200 MB.

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

from core.config import RiskConfig
from core.engine import Engine, StepResult
from core.evaluate import partition_sums, step_signals
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


def _feed(engine: Engine, network: Network, first: int, count: int) -> None:
    """Ingest ``count`` minutes, running the steps each completes (as the consumer does)."""
    for offset, batch in enumerate(network.minutes(first, count)):
        engine.ingest(batch, now=_now(first + offset))
        engine.run_due_steps()


def _rules(step: StepResult, config: RiskConfig) -> pl.DataFrame:
    """What the service decides at a step: hub rules, and province and network rules from the
    stacked sums of every partition (one process holds them all)."""
    network_sums = pl.concat(list(partition_sums(step).values()))
    return step_signals(step, network_sums=network_sums, config=config)


def bench_replay(engine: Engine, network: Network, first: int, runs: int) -> list[float]:
    """Events/s of ``ingest`` + ``run_due_steps`` (every step the batch completes: one per
    minute) over 32 batches per run (built before the clock starts)."""
    rates = []
    for run in range(runs):
        start_minute = first + run * APPLY_RUN_BATCHES
        batches = list(network.minutes(start_minute, APPLY_RUN_BATCHES))
        steps = 0
        started = time.perf_counter()
        for offset, batch in enumerate(batches):
            engine.ingest(batch, now=_now(start_minute + offset))
            steps += len(engine.run_due_steps())
        elapsed = time.perf_counter() - started
        assert steps == APPLY_RUN_BATCHES, f"{steps} steps for {APPLY_RUN_BATCHES} minutes"
        rates.append(sum(b.height for b in batches) / elapsed)
    return rates


def bench_ingest(engine: Engine, network: Network, first: int, runs: int) -> list[float]:
    """Events/s of ``ingest`` alone (quarantine, de-dup, each event's step) over 32 batches;
    their steps run after the clock stops."""
    rates = []
    for run in range(runs):
        start_minute = first + run * APPLY_RUN_BATCHES
        batches = list(network.minutes(start_minute, APPLY_RUN_BATCHES))
        started = time.perf_counter()
        for offset, batch in enumerate(batches):
            engine.ingest(batch, now=_now(start_minute + offset))
        elapsed = time.perf_counter() - started
        rates.append(sum(b.height for b in batches) / elapsed)
        engine.run_due_steps()
    return rates


def bench_step(engine: Engine, network: Network, first: int, runs: int) -> list[float]:
    """Milliseconds of one evaluation step on 3 h of state, as in service: the step itself
    (the minute's events applied, every hub measured) and its rules (``core.evaluate``)."""
    times = []
    for run, batch in enumerate(network.minutes(first, runs)):
        engine.ingest(batch, now=_now(first + run))
        started = time.perf_counter()
        steps = engine.run_due_steps()
        for step in steps:
            _rules(step, engine.config)
        times.append((time.perf_counter() - started) * 1000 / max(1, len(steps)))
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
    engine.assign(range(PARTITIONS))
    step(f"3 h of a {args.hubs:,}-hub network into the engine, every step run (memory)")
    _feed(engine, network, 0, 180)
    gc.collect()
    memory = state_mb(engine)
    rss_growth = rss_mb() - before

    step("evaluation steps on 3 h of state")
    steps = bench_step(engine, network, 180, args.runs)

    step("replay throughput: ingest + every step (an hour of state first)")
    fresh = Engine(hubs)
    fresh.assign(range(PARTITIONS))
    _feed(fresh, network, 0, 60)
    rates = bench_replay(fresh, network, 60, args.runs)
    ingest = bench_ingest(fresh, network, 60 + args.runs * APPLY_RUN_BATCHES, args.runs)

    events = args.hubs * BATCH_EVENTS_PER_HUB
    print()
    print(f"Core engine, {args.hubs:,} hubs, batches of {events:,} events (`python -m bench.core`)")
    print()
    print("| measure | median | min – max | runs | target |")
    print("| --- | ---: | ---: | ---: | --- |")
    print(
        _row(
            "replay: `Engine.ingest` + `run_due_steps` (a step per minute-batch)",
            "events/s",
            rates,
            "≥ 2,000,000 events/s",
        )
    )
    print(_row("`Engine.ingest` alone", "events/s", ingest, "—"))
    print(
        _row(
            "one evaluation step on 3 h of state: the step + hub, province and network rules",
            "ms",
            steps,
            "≤ 20 ms",
            ",.1f",
        )
    )
    print(_row("state after 3 h (frames' estimated size)", "MB", [memory], "≤ 200 MB", ",.1f"))
    print(_row("resident memory growth over those 3 h", "MB", [rss_growth], "—", ",.1f"))


if __name__ == "__main__":
    main()
