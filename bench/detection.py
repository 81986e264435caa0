"""``make eval``: each scenario through the service's own evaluation path, scored against its
ground truth.

For every scenario the simulator's records are fed as a consumer would get them from Kafka: in
their order, keyed by hub, each hub on the partition Kafka's default partitioner gives it
(``PARTITIONS`` partitions), in chunks of ``--chunk`` records (a getmany batch). Each chunk runs
what the service runs (``consumers.consumer`` → ``app.runtime``):

    consumers.batch.process_batch      decode, registry check, engine.ingest
    engine.run_due_steps()             every event-time step the watermark passed, in order
    core.evaluate.step_signals         hub rules, and province / network rules from the stacked
                                       ``partition_sums`` of the step (one process: every
                                       partition is local)
    AlertService.process_steps         the lifecycle at each step, on a real SQLite store

At the end of the feed, its last minutes are flushed as a stopped feed would be
(``run_due_steps(feed_stopped_for_ms=allowed lateness + one step)``). The alert history is then
read back from the store and compared with the labels the simulator wrote. The result does not
depend on the chunk size (``--check-chunk`` runs one scenario again with another and compares
the whole alert histories). Results: docs/DETECTION.md.

    .venv/bin/python -m bench.detection [--hubs 300] [--seed 11] [--chunk 5000]
        [--scenario NAME ...] [--check-chunk 1733] [--out docs/DETECTION.md]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl
from aiokafka.partitioner import DefaultPartitioner

from alerts.config import AlertingConfig
from alerts.evaluation.tick import StepSignals
from alerts.model import AlertChange
from alerts.service import AlertService
from alerts.store.history import AlertQuery
from consumers.batch import RawBatch, process_batch
from core.config import RiskConfig
from core.engine import Engine, StepResult
from core.evaluate import partition_sums, step_signals
from core.levels import LEVEL_RANK
from simulator.scenarios import SCENARIOS
from simulator.simulation import Simulation, generate
from storage.db import open_database

OUT = Path(__file__).resolve().parent.parent / "docs" / "DETECTION.md"
PARTITIONS = 12  # as hub-events in service (Settings.events_partitions)
CHUNK = 5_000
CHECK_CHUNK = 1_733  # prime: its chunk edges fall anywhere within the minutes
CHECK_SCENARIO = "data_faults"  # late, duplicate, future and malformed records
PAGE = 1_000

Transition = tuple[str, str, str, str, str, datetime]
"""(rule, subject, kind, level, state, event time) of one stored change."""


@dataclass
class Run:
    """One scenario through the service path: its stored alert history and counts."""

    scenario: str
    chunk: int
    labels: dict[str, object]
    history: list[Transition] = field(default_factory=list)
    events: int = 0
    dead_lettered: int = 0
    late: int = 0
    steps: int = 0
    wall_s: float = 0.0

    @property
    def first(self) -> dict[tuple[str, str, str], datetime]:
        """First step each (rule, subject) was firing at or above each level floor."""
        first: dict[tuple[str, str, str], datetime] = {}
        for rule, subject, _kind, level, state, at in self.history:
            if state != "firing":
                continue
            for floor in ("yellow", "orange", "red"):
                if LEVEL_RANK[level] >= LEVEL_RANK[floor]:
                    key = (rule, subject, floor)
                    first[key] = min(first.get(key, at), at)
        return first


def partitioner(partitions: int) -> Callable[[bytes], int]:
    """Kafka's default partitioner (murmur2 of the key) over ``partitions`` partitions."""
    default = DefaultPartitioner()
    every = list(range(partitions))

    def partition(key: bytes) -> int:
        return int(default(key, every, every))

    return partition


def hub_partitions(registry: pl.DataFrame, partitions: int = PARTITIONS) -> dict[str, int]:
    """Each registered hub's partition (its events are keyed by hub id)."""
    partition = partitioner(partitions)
    hub_ids: list[str] = registry["hub_id"].to_list()
    return {hub: partition(hub.encode()) for hub in hub_ids}


def kafka_chunks(
    simulation: Simulation, *, chunk: int, partitions: int = PARTITIONS
) -> Iterator[tuple[RawBatch, datetime]]:
    """The scenario's records as getmany batches of ``chunk`` records, in produce order, with
    the wall clock a live feed would have when the batch is consumed (end of the minute of its
    newest record + 1 min: it only decides which events are stamped too far ahead).

    Each record goes to the partition Kafka's default partitioner (murmur2 of the key, the
    hub id) gives it, with that partition's next offset.
    """
    partition = partitioner(partitions)
    of_hub = hub_partitions(simulation.registry, partitions)
    offsets = np.zeros(partitions, dtype=np.int64)
    values: list[bytes] = []
    parts: list[int] = []
    ends: list[tuple[int, datetime]] = []  # (records so far, minute) at the end of each minute
    for batch in simulation.batches():
        values.extend(batch.records())
        parts.extend(batch.events["hub_id"].replace_strict(of_hub, return_dtype=pl.Int64))
        parts.extend(partition(record.key) for record in batch.malformed)
        ends.append((len(values), batch.minute))
        while len(values) >= chunk:
            minute = next(m for end, m in ends if end >= chunk)
            yield _raw(values[:chunk], parts[:chunk], offsets), minute
            del values[:chunk], parts[:chunk]
            ends = [(end - chunk, m) for end, m in ends if end > chunk]
    if values:
        yield _raw(values, parts, offsets), ends[-1][1]


def _raw(values: list[bytes], parts: list[int], offsets: npt.NDArray[np.int64]) -> RawBatch:
    """One batch; ``offsets`` (each partition's next offset) moves on past it."""
    partition = np.asarray(parts, dtype=np.int64)
    counts = np.bincount(partition, minlength=len(offsets))
    order = np.argsort(partition, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(len(parts), dtype=np.int64)
    rank[order] = np.arange(len(parts)) - np.repeat(starts, counts)
    record_offsets = offsets[partition] + rank
    offsets += counts
    return RawBatch(
        values=values,
        partitions=parts,
        offsets=record_offsets.tolist(),
        timestamps_ms=[0] * len(values),
    )


def signals_of_step(step: StepResult, config: RiskConfig) -> StepSignals:
    """What the service decides at one step when one process holds every partition: hub rules
    and the network's from the stacked sums of all partitions (``core.evaluate``)."""
    sums = list(partition_sums(step).values())
    network_sums = pl.concat(sums) if sums else None
    signals = step_signals(step, network_sums=network_sums, config=config)
    hubs = dict(step.hubs_by_partition.iter_rows())
    return StepSignals(step.step, signals, hubs, step.partitions, network_sums is not None)


async def decide(alerts: AlertService, steps: list[StepResult], config: RiskConfig) -> None:
    """One run of steps → one ``process_steps`` transaction, as ``Runtime.on_steps`` does."""
    if steps:
        await alerts.process_steps([signals_of_step(step, config) for step in steps])


async def stored_history(alerts: AlertService) -> list[Transition]:
    """Every lifecycle change in the store, read back through the service."""
    history: list[Transition] = []
    cursor: str | None = None
    while True:
        page = await alerts.list_alerts(AlertQuery(limit=PAGE, cursor=cursor))
        for alert in page.alerts:
            for change in await alerts.history(alert.id):
                history.append(_transition(change))
        cursor = page.next_cursor
        if cursor is None:
            break
    return sorted(history, key=lambda t: (t[5], t[0], t[1], t[2]))


def _transition(change: AlertChange) -> Transition:
    alert = change.alert
    at = change.at if change.at.tzinfo else change.at.replace(tzinfo=UTC)
    return (alert.rule, alert.subject, change.kind, alert.level, alert.state, at)


async def replay_async(
    scenario: str,
    *,
    hubs: int,
    seed: int,
    chunk: int,
    workdir: Path,
    duration: timedelta | None = None,
) -> Run:
    """Run one scenario (``duration``: shortened) through the service's evaluation path into a
    fresh SQLite store."""
    started = time.perf_counter()
    simulation = generate(scenario, hubs=hubs, seed=seed, duration=duration)
    registry = simulation.registry
    engine = Engine(registry)
    # the partitions holding a hub: one with none would be idle live (it never holds the
    # watermark back for long); here it would hold it for ever
    engine.assign(set(hub_partitions(registry).values()))
    config = engine.config
    run = Run(scenario, chunk, simulation.labels)
    database = await open_database(f"sqlite+aiosqlite:///{workdir / f'{scenario}-{chunk}.db'}")
    alerts = await AlertService.open(
        db=database, config=AlertingConfig(), public_url="http://peakwatch.invalid"
    )
    try:
        for raw, minute in kafka_chunks(simulation, chunk=chunk):
            outcome = process_batch(engine, registry, raw, now=minute + timedelta(minutes=2))
            run.events += len(raw.values)
            run.dead_lettered += outcome.dead_lettered
            run.late += outcome.late
            steps = engine.run_due_steps()
            run.steps += len(steps)
            await decide(alerts, steps, config)
        stopped_ms = (config.allowed_lateness_s + config.evaluation_step_s) * 1000
        steps = engine.run_due_steps(feed_stopped_for_ms=stopped_ms)
        run.steps += len(steps)
        await decide(alerts, steps, config)
        run.history = await stored_history(alerts)
    finally:
        await alerts.close()
        await database.close()
    run.wall_s = time.perf_counter() - started
    return run


def replay(
    scenario: str,
    *,
    hubs: int,
    seed: int,
    chunk: int = CHUNK,
    duration: timedelta | None = None,
) -> Run:
    """``replay_async`` in a temporary directory of its own."""
    with tempfile.TemporaryDirectory(prefix="peakwatch-eval-") as temp:
        work = replay_async(
            scenario, hubs=hubs, seed=seed, chunk=chunk, workdir=Path(temp), duration=duration
        )
        return asyncio.run(work)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


@dataclass
class Score:
    """One scenario's detection figures."""

    overflows: int
    caught: int
    lead_orange: list[float]
    lead_red: list[float]
    silences: int
    silent_caught: int
    false_overflow: list[str]
    false_silent: list[str]
    other_orange: list[str]


def score(run: Run) -> Score:
    """Overflows caught, lead times, silences caught, false alarms at orange or worse."""
    first = run.first
    overflows: list[dict[str, str]] = run.labels["overflows"]  # type: ignore[assignment]
    leads: dict[str, list[float]] = {"orange": [], "red": []}
    caught = 0
    for overflow in overflows:
        at = _parse(overflow["start"])
        for floor in ("orange", "red"):
            fired = first.get(("hub_overflow", overflow["hub_id"], floor))
            if fired is not None and fired <= at + timedelta(minutes=5):
                leads[floor].append(_minutes(at - fired))
                caught += floor == "orange"
    silences: list[dict[str, str]] = run.labels["silences"]  # type: ignore[assignment]
    silent_hubs = {s["hub_id"] for s in silences}
    at_orange = {(rule, subject) for rule, subject, floor in first if floor == "orange"}
    return Score(
        overflows=len(overflows),
        caught=caught,
        lead_orange=leads["orange"],
        lead_red=leads["red"],
        silences=len(silent_hubs),
        silent_caught=sum(("hub_silent", hub, "yellow") in first for hub in silent_hubs),
        false_overflow=sorted(
            {s for r, s in at_orange if r == "hub_overflow"} - {o["hub_id"] for o in overflows}
        ),
        false_silent=sorted({s for r, s in at_orange if r == "hub_silent"} - silent_hubs),
        other_orange=sorted(
            f"{r}:{s}" for r, s in at_orange if r not in ("hub_overflow", "hub_silent")
        ),
    )


def _lead(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{statistics.median(values):.0f} / {min(values):.0f}"


def _names(names: list[str]) -> str:
    shown = " ".join(names[:4]) + (" …" if len(names) > 4 else "")
    return f"{len(names)} {shown}".strip()


@dataclass(frozen=True)
class ChunkCheck:
    """The same scenario fed in chunks of two sizes: are the stored alert histories equal?"""

    scenario: str
    chunks: tuple[int, int]
    transitions: int
    identical: bool
    first_difference: str | None


def check_chunks(base: Run, other: Run) -> ChunkCheck:
    """Compare two runs of one scenario change by change."""
    difference = None
    for a, b in zip(base.history, other.history, strict=False):
        if a != b:
            difference = f"{a} ≠ {b}"
            break
    if difference is None and len(base.history) != len(other.history):
        difference = f"{len(base.history)} ≠ {len(other.history)} changes"
    return ChunkCheck(
        scenario=base.scenario,
        chunks=(base.chunk, other.chunk),
        transitions=len(base.history),
        identical=difference is None,
        first_difference=difference,
    )


HEADER = """# Detection quality

Written by `make eval` (`.venv/bin/python -m bench.detection --hubs {hubs} --seed {seed}`).
Each scenario of the simulator runs through the service's own evaluation path, the functions
`peakwatch serve` runs: its records are fed as Kafka would hand them to the consumer (in order,
each hub on the partition Kafka's default partitioner gives it, {partitions} partitions, batches
of {chunk:,} records) to `consumers.batch.process_batch` (decode → registry check →
`Engine.ingest`), then `Engine.run_due_steps()` (every {step} s event-time step the watermark
passes, in order, on the state as of the step), `core.evaluate.step_signals` (hub rules, and
province and network rules from the stacked `partition_sums` of the step) and
`AlertService.process_steps` (the alert lifecycle with the default pending and clear periods) on
a real SQLite store. At the end the feed's last minutes are flushed as a stopped feed would be.
The alert history is read back from the store and scored against the ground truth the simulator
writes (`--labels`).

- **caught**: a `hub_overflow` alert was firing at orange or worse no later than 5 min after the
  labelled overflow (backlog > storage capacity);
- **lead**: labelled overflow time minus the first evaluation step the alert was firing at that
  level, median / minimum, in minutes (negative: after the overflow);
- **false alarms**: hubs with a `hub_overflow` alert at orange or worse that never overflow in the
  ground truth, and `hub_silent` at orange or worse on hubs that were never silenced; province
  and network alerts at orange or worse are listed for reading (they follow from hub alerts).

Leads count from the step an alert was decided at, on the state as of that step: events stamped
after a step never count in it. The parallel driver `make eval` used before (until issue #12)
measured backlog with every event applied so far, up to the allowed lateness (5 min) past the
time it stamped its decision, so its leads were about 5 min longer for the same detections.

An overflow that happens while its hub sends no data (`hub_outage`: the hub loses power and goes
silent) cannot be seen in the hub's own numbers; what catches it is `hub_silent`, red for a key
node (column "silent caught").

| scenario | events | overflows | caught | lead orange | lead red | silent caught | false overflow | false silent | province/network ≥ orange | steps | wall s |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | ---: | ---: |
"""  # noqa: E501


def render(
    results: list[tuple[Run, Score]],
    *,
    hubs: int,
    seed: int,
    chunk: int,
    check: ChunkCheck | None,
    jobs: int,
    load: float,
) -> str:
    """The markdown report."""
    step = RiskConfig().evaluation_step_s
    header = HEADER.format(hubs=hubs, seed=seed, partitions=PARTITIONS, chunk=chunk, step=step)
    lines = [header.rstrip("\n")]
    for run, result in results:
        lines.append(
            f"| {run.scenario} | {run.events:,} | {result.overflows} | {result.caught} | "
            f"{_lead(result.lead_orange)} | {_lead(result.lead_red)} | "
            f"{result.silent_caught} / {result.silences} | {_names(result.false_overflow)} | "
            f"{_names(result.false_silent)} | {' '.join(result.other_orange) or '—'} | "
            f"{run.steps:,} | {run.wall_s:.0f} |"
        )
    summaries = "; ".join(f"`{name}`: {spec.summary}" for name, spec in SCENARIOS.items())
    lines += [
        "",
        f"Wall s: one scenario's run (simulation, feed, store, scoring) with {jobs} at a time on "
        f"{os.cpu_count()} shared cores (1-minute load average {load:.1f} at the end).",
        "",
        f"Scenarios: {summaries}.",
        "",
    ]
    if check is not None:
        a, b = check.chunks
        verdict = (
            "the identical alert history"
            if check.identical
            else f"**different alert histories** (first difference: {check.first_difference})"
        )
        lines += [
            f"Batching does not change the result: `{check.scenario}` fed in batches of {a:,} "
            f"and of {b:,} records gives {verdict} ({check.transitions:,} stored changes: "
            "rule, subject, kind, level, state, event time).",
            "",
        ]
    return "\n".join(lines)


def _replay_job(job: tuple[str, int, int, int]) -> Run:
    # the service logs a line per batch with dead letters (data_faults): counted in the Run
    logging.getLogger("consumers.batch").setLevel(logging.ERROR)
    scenario, hubs, seed, chunk = job
    return replay(scenario, hubs=hubs, seed=seed, chunk=chunk)


def main() -> int:
    """Entry point of ``make eval``."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hubs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--chunk", type=int, default=CHUNK, help="records per consumer batch")
    parser.add_argument("--scenario", action="append", help="only these scenarios (repeatable)")
    parser.add_argument(
        "--check-chunk",
        type=int,
        default=CHECK_CHUNK,
        help=f"run {CHECK_SCENARIO} (or the first scenario given) again in batches of this "
        "size and compare the stored alert histories (0: skip)",
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="scenarios run at a time, one process each"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    names = args.scenario or list(SCENARIOS)
    check_name = CHECK_SCENARIO if CHECK_SCENARIO in names else names[0]
    jobs = [(name, args.hubs, args.seed, args.chunk) for name in names]
    if args.check_chunk:
        jobs.append((check_name, args.hubs, args.seed, args.check_chunk))
    # longest first (minutes of event time), so that the last one to finish is a short one
    order = sorted(jobs, key=lambda job: -SCENARIOS[job[0]].duration)
    runs: dict[tuple[str, int], Run] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, args.jobs), mp_context=context) as pool:
        futures = {pool.submit(_replay_job, job): job for job in order}
        for name, _, _, chunk in order:
            print(f"eval: {name} (batches of {chunk:,}) …", file=sys.stderr, flush=True)
        for future in as_completed(futures):
            run = future.result()
            runs[(run.scenario, run.chunk)] = run
            print(
                f"eval: {run.scenario} (batches of {run.chunk:,}): {run.steps:,} steps, "
                f"{len(run.history):,} stored changes, {run.late:,} late and "
                f"{run.dead_lettered:,} dead-lettered records, {run.wall_s:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    results = [(runs[(name, args.chunk)], score(runs[(name, args.chunk)])) for name in names]
    for run, result in results:
        caught = f"{result.caught}/{result.overflows} overflows caught"
        print(f"eval: {run.scenario}: {caught}", file=sys.stderr)
    check = None
    if args.check_chunk:
        check = check_chunks(runs[(check_name, args.chunk)], runs[(check_name, args.check_chunk)])
        print(
            f"eval: {check_name} in batches of {args.chunk:,} and {args.check_chunk:,}: "
            + ("identical" if check.identical else f"DIFFERENT: {check.first_difference}"),
            file=sys.stderr,
        )
    report = render(
        results,
        hubs=args.hubs,
        seed=args.seed,
        chunk=args.chunk,
        check=check,
        jobs=max(1, args.jobs),
        load=os.getloadavg()[0],
    )
    args.out.write_text(report, encoding="utf-8")
    print(f"eval: wrote {args.out}", file=sys.stderr)
    return 0 if check is None or check.identical else 1


if __name__ == "__main__":
    sys.exit(main())
