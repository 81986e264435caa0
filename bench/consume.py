"""Measurement processes on the Kafka side; each prints one ``RESULT {json}`` line.

    python -m bench.consume raw        --bootstrap B --topic T --expect N
    python -m bench.consume peakwatch  --bootstrap B --topic T --expect N --hubs-file F
                                       [--profile P]
    python -m bench.consume latency    --bootstrap B --topic T --hubs-file F --speed X
                                       --seconds S

``raw`` is the ceiling: an aiokafka getmany loop that only counts. ``peakwatch`` is the service's
own runtime (bench/pipeline.py: the real consumer, every event-time step, rules, alert decisions
on SQLite, hub-status) over a full topic, until every record is applied and every step the data
completes is decided; throughput counts from the partitions being assigned to the last decision
stored (joining the group is ``startup_s``). ``latency`` starts a producer (bench/produce.py)
that sends the simulator's records paced by their event time, ``--speed`` times faster than the
wall clock, once the runtime holds its partitions, and measures for each record the wall time
from its produce to the first stored alert decision of its step (see ``latency``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from aiokafka import AIOKafkaConsumer, TopicPartition

from alerts.store.history import AlertQuery
from bench.common import REPO_ROOT, RESULT_PREFIX, emit, peak_rss_mb
from bench.pipeline import Pipeline, TimedRuntime, open_pipeline, summary
from consumers.topics import wait_for_partitions
from core.config import RiskConfig
from core.registry import parse_hubs

MAX_RECORDS = 20_000  # the service's default max_batch_records
PARTITIONS = 12
POLL_S = 0.01


async def raw(bootstrap: str, topic: str, expect: int) -> dict[str, Any]:
    """Count records with getmany, nothing else (same fetch settings as the service)."""
    started = time.perf_counter()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=32 * 1024 * 1024,
    )
    await consumer.start()
    try:
        partitions = await wait_for_partitions(consumer, topic)
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        count, first = 0, None
        while count < expect:
            batches = await consumer.getmany(timeout_ms=500, max_records=MAX_RECORDS)
            if batches and first is None:
                first = time.perf_counter()
            count += sum(len(records) for records in batches.values())
        finished = time.perf_counter()
    finally:
        await consumer.stop()
    assert first is not None
    return {
        "records": count,
        "seconds": finished - first,
        "events_per_s": count / (finished - first),
        "startup_s": first - started,
    }


def _step_stats(runtime: TimedRuntime) -> dict[str, Any]:
    durations = sorted(runtime.on_steps_s)
    calls = sorted(runtime.steps_per_call)
    return {
        "steps": len(runtime.hub_decided),
        "network_steps": len(runtime.network_decided),
        "missing_steps": runtime.missing_steps(),
        "first_step_ms": min(runtime.hub_decided, default=None),
        "last_step_ms": max(runtime.hub_decided, default=None),
        "on_steps_calls": len(durations),
        "on_steps_p50_ms": 1000 * durations[len(durations) // 2] if durations else None,
        "on_steps_max_ms": 1000 * durations[-1] if durations else None,
        "steps_per_call_p50": calls[len(calls) // 2] if calls else None,
    }


async def _alerts_stored(pipeline: Pipeline) -> int:
    page = await pipeline.alerts.list_alerts(AlertQuery(limit=1_000_000))
    return len(page.alerts)


async def peakwatch(
    bootstrap: str, topic: str, expect: int, registry: pl.DataFrame, workdir: Path
) -> dict[str, Any]:
    """The service's runtime until every record is applied and every step it completes is
    decided (hub alerts and network alerts stored)."""
    pipeline = await open_pipeline(bootstrap, topic, registry, workdir, partitions=PARTITIONS)
    runtime = pipeline.runtime
    try:
        await _until(lambda: bool(runtime.consumer and runtime.consumer.assigned), 120, "assigned")
        assigned_at = time.time()
        await _until(lambda: pipeline.applied() >= expect, 900, f"{expect:,} records applied")
        last = runtime.engine.last_step_ms
        assert last is not None, "no step was evaluated"
        await _until(lambda: (runtime.decided_through() or 0) >= last, 120, "the last step decided")
        finished = max(runtime.hub_decided[last], runtime.network_decided[last])
        alerts = await _alerts_stored(pipeline)
    finally:
        await pipeline.close()
    seconds = finished - assigned_at
    return {
        "records": pipeline.applied(),
        "seconds": seconds,
        "events_per_s": expect / seconds,
        "startup_s": assigned_at - pipeline.started_at,
        "alerts_stored": alerts,
        **_step_stats(runtime),
    }


async def latency(
    args: argparse.Namespace, registry: pl.DataFrame, workdir: Path, risk: dict[str, Any]
) -> dict[str, Any]:
    """A producer paced by event time, ``speed`` × the wall clock; per record the wall time from
    its produce to the first stored decision of its step, and how that splits.

    A record stamped ``t`` belongs to step ``S`` (the first step after ``t``), decided once the
    watermark passes ``S``: once every partition has seen an event stamped ``S + lateness``.
    The wait for that is event time (``S + lateness − t``: at most lateness + one step; it takes
    that long on the wall clock live, ``1/speed`` of it here); the rest — from the moment the
    record that closed the step was produced to the decision being stored — is the service's
    own delay (consume, apply, evaluate, decide), measured here under ``speed`` times the live
    load. Live, a record's delay is therefore the wait plus that processing delay.
    """
    pipeline = await open_pipeline(
        args.bootstrap, args.topic, registry, workdir, partitions=PARTITIONS, risk=risk
    )
    runtime = pipeline.runtime
    config = RiskConfig.from_mapping(risk)
    lateness_ms = config.allowed_lateness_s * 1000
    step_ms = config.evaluation_step_s * 1000
    times_path = workdir / "produced.npz"
    producer: asyncio.subprocess.Process | None = None
    try:
        await _until(lambda: bool(runtime.consumer and runtime.consumer.assigned), 120, "assigned")
        producer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.produce", "--bootstrap", args.bootstrap,
            "--topic", args.topic, "--speed", str(args.speed), "--seconds", str(args.seconds),
            "--hubs", str(args.hubs), "--seed", str(args.seed), "--times", str(times_path),
            cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        output, _ = await producer.communicate()
        produced = _result_of(output.decode(), producer.returncode)
        await _until(lambda: pipeline.applied() >= produced["records"], 120, "all applied")
        sent = np.load(times_path)
        ts_ms, produced_s, partition = sent["ts_ms"], sent["produced_s"], sent["partition"]
        closable = _last_closable_step(ts_ms, partition, lateness_ms=lateness_ms, step_ms=step_ms)
        await _until(
            lambda: (runtime.decided_through() or 0) >= closable, 60, "the last step decided"
        )
    finally:
        if producer is not None and producer.returncode is None:
            producer.kill()
            await producer.wait()
        await pipeline.close()
    warm = produced_s >= produced_s[0] + args.warmup_s
    step = (ts_ms // step_ms + 1) * step_ms
    steps, of_step = np.unique(step, return_inverse=True)
    decided_at = [runtime.hub_decided.get(int(s), np.nan) for s in steps]
    decided = np.asarray(decided_at, dtype=np.float64)[of_step]
    measured = warm & ~np.isnan(decided)
    released = _released(step, ts_ms, produced_s, partition, lateness_ms=lateness_ms)
    wall = decided - produced_s
    wait_s = (step + lateness_ms - ts_ms) / 1000
    processing = decided - released
    live = wait_s + processing
    bound_s = (lateness_ms + step_ms) / 1000 + 2.0
    wall_bound_s = (lateness_ms + step_ms) / 1000 / args.speed + 2.0
    return {
        "speed": args.speed,
        "rate": produced["records_per_s"],
        "records": int(ts_ms.size),
        "measured": int(measured.sum()),
        "undecided_at_end": int((warm & np.isnan(decided)).sum()),
        "lateness_s": lateness_ms / 1000,
        "step_s": step_ms / 1000,
        "wall": summary(wall[measured]),
        "wall_bound_s": wall_bound_s,
        "wait": summary(wait_s[measured]),
        "processing": summary(processing[measured]),
        "live": summary(live[measured]),
        "bound_s": bound_s,
        **_step_stats(runtime),
    }


def _first_at_or_after(
    ts_ms: np.ndarray, produced_s: np.ndarray, partition: np.ndarray, at_ms: np.ndarray
) -> np.ndarray:
    """For each moment of ``at_ms``: when the last partition got its first record stamped at or
    after it (wall s; nan when one never did). Records are in produce order, stamps ascending."""
    result = np.full(at_ms.shape, -np.inf)
    for p in np.unique(partition):
        own = partition == p
        stamps, sent = ts_ms[own], produced_s[own]
        index = np.searchsorted(stamps, at_ms, side="left")
        got = np.full(at_ms.shape, np.nan)
        found = index < stamps.size
        got[found] = sent[index[found]]
        result = np.maximum(result, got)  # nan wins: that partition has not passed it
    return result


def _released(
    step: np.ndarray,
    ts_ms: np.ndarray,
    produced_s: np.ndarray,
    partition: np.ndarray,
    *,
    lateness_ms: int,
) -> np.ndarray:
    """Per record, when the record that let the watermark pass its step was produced."""
    steps = np.unique(step)
    closing = _first_at_or_after(ts_ms, produced_s, partition, steps + lateness_ms)
    return closing[np.searchsorted(steps, step)]


def _last_closable_step(
    ts_ms: np.ndarray, partition: np.ndarray, *, lateness_ms: int, step_ms: int
) -> int:
    """The last step the produced data lets the watermark pass (the slowest partition's)."""
    slowest = min(int(ts_ms[partition == p].max()) for p in np.unique(partition))
    return (slowest - lateness_ms) // step_ms * step_ms


async def _until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``condition`` (a flag another task sets) every 10 ms."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not {what} within {timeout_s:.0f} s")
        await asyncio.sleep(POLL_S)


def _result_of(output: str, returncode: int | None) -> dict[str, Any]:
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            return result
    raise RuntimeError(f"the paced producer exited {returncode} without a result")


def _profiled(coroutine: Any, path: Path) -> Any:
    """Run with pyinstrument, worker threads inline (the profiler samples one thread)."""
    profiler_class = importlib.import_module("pyinstrument").Profiler  # the bench group's

    async def inline(function: Any, /, *args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    asyncio.to_thread = inline
    profiler = profiler_class(interval=0.002, async_mode="disabled")
    profiler.start()
    try:
        return asyncio.run(coroutine)
    finally:
        profiler.stop()
        path.write_text(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> int:
    """Entry point: one measurement, one result line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["raw", "peakwatch", "latency"])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--expect", type=int, default=0)
    parser.add_argument("--hubs-file", type=Path)
    parser.add_argument("--speed", type=float, default=60.0, help="event time per wall second")
    parser.add_argument("--seconds", type=float, default=20.0, help="wall seconds of production")
    parser.add_argument("--warmup-s", type=float, default=3.0)
    parser.add_argument(
        "--lateness-s", type=int, help="allowed lateness for the latency run (default: service's)"
    )
    parser.add_argument("--hubs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--profile", type=Path, help="pyinstrument text profile here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-consume-") as temp:
        workdir = Path(temp)
        if args.mode == "raw":
            work = raw(args.bootstrap, args.topic, args.expect)
        else:
            if args.hubs_file is None:
                parser.error(f"{args.mode} needs --hubs-file")
            registry = parse_hubs(args.hubs_file.read_text("utf-8"))
            if args.mode == "peakwatch":
                work = peakwatch(args.bootstrap, args.topic, args.expect, registry, workdir)
            else:
                risk = {} if args.lateness_s is None else {"allowed_lateness_s": args.lateness_s}
                work = latency(args, registry, workdir, risk)
        result = _profiled(work, args.profile) if args.profile else asyncio.run(work)
    result["rss_mb"] = peak_rss_mb()
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
