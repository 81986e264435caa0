"""Measurement processes on the Kafka side; each prints one ``RESULT {json}`` line.

    python -m bench.consume raw        --bootstrap B --topic T --expect N
    python -m bench.consume peakwatch  --bootstrap B --topic T --expect N --hubs-file F
                                       [--profile P]
    python -m bench.consume latency    --bootstrap B --topic T --hubs-file F --rate R --seconds S

``raw`` is the ceiling: an aiokafka getmany loop that only counts. ``peakwatch`` is the whole
pipeline (bench/pipeline.py) until every record is applied and a last tick has decided on it.
``latency`` starts a paced producer (bench/produce.py) once the pipeline holds its partitions and
measures record timestamp → state applied and → alert decided. Throughput is counted from the
first records in hand to the last record done, so connecting and joining the group are left out
(they are reported as ``startup_s``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.common import REPO_ROOT, RESULT_PREFIX, emit, peak_rss_mb
from bench.pipeline import Pipeline, latency_summary, open_pipeline
from consumers.topics import wait_for_partitions
from core.registry import parse_hubs

MAX_RECORDS = 20_000  # the service's default max_batch_records
PARTITIONS = 12


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


async def peakwatch(
    bootstrap: str, topic: str, expect: int, registry: pl.DataFrame, tick_s: float
) -> dict[str, Any]:
    """The whole pipeline until every record is applied and one tick has decided on them all."""
    started = time.perf_counter()
    pipeline = await open_pipeline(bootstrap, topic, registry, tick_s=tick_s, partitions=PARTITIONS)
    consumer = pipeline.consumer
    consumer.expect = expect
    tasks = [asyncio.create_task(consumer.run()), asyncio.create_task(pipeline.ticking())]
    try:
        await consumer.done.wait()
        async with consumer.lock:  # the batch in flight is applied; then the last decisions
            pass
        await pipeline.tick()
        finished = time.perf_counter()
    finally:
        await _stop(pipeline, tasks)
    first = consumer.first_records_at
    assert first is not None
    watermark = pipeline.engine.watermark()
    ticks = sorted(pipeline.tick_durations_s)
    return {
        "records": consumer.records_done,
        "seconds": finished - first,
        "events_per_s": consumer.records_done / (finished - first),
        "startup_s": first - started,
        "ticks": len(ticks),
        "tick_p50_ms": 1000 * ticks[len(ticks) // 2],
        "tick_max_ms": 1000 * ticks[-1],
        "transitions": pipeline.transitions,
        "alerts_active": len(pipeline.alerts),
        "watermark_ms": None if watermark is None else int(watermark.timestamp() * 1000),
    }


async def latency(
    args: argparse.Namespace, registry: pl.DataFrame, rate: float, seconds: float, warmup_s: float
) -> dict[str, Any]:
    """Paced producer in its own process; latencies after ``warmup_s`` of production."""
    pipeline = await open_pipeline(
        args.bootstrap, args.topic, registry, tick_s=args.tick_s, partitions=PARTITIONS
    )
    consumer = pipeline.consumer
    tasks = [asyncio.create_task(consumer.run()), asyncio.create_task(pipeline.ticking())]
    producer: asyncio.subprocess.Process | None = None
    try:
        await _until(lambda: bool(consumer.assigned), timeout_s=60, what="partitions assigned")
        producer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.produce", "--bootstrap", args.bootstrap,
            "--topic", args.topic, "--rate", str(rate), "--seconds", str(seconds),
            "--hubs", str(args.hubs), "--seed", str(args.seed),
            cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        await _until(lambda: consumer.records_done > 0, timeout_s=30, what="records produced")
        await asyncio.sleep(warmup_s)
        consumer.applied_ms.clear()
        pipeline.decided_ms.clear()
        output, _ = await producer.communicate()
        produced = _result_of(output.decode(), producer.returncode)
        consumer.expect = produced["records"]
        if consumer.records_done < consumer.expect:
            await asyncio.wait_for(consumer.done.wait(), timeout=60)
        await asyncio.sleep(args.tick_s + 0.5)  # the last records reach a decision
    finally:
        if producer is not None and producer.returncode is None:
            producer.kill()
            await producer.wait()
        await _stop(pipeline, tasks)
    return {
        "rate": rate,
        "produced_per_s": produced["records_per_s"],
        "producer_rss_mb": produced["rss_mb"],
        "records": consumer.records_done,
        "state": latency_summary(consumer.applied_ms),
        "decision": latency_summary(pipeline.decided_ms),
        "tick_s": args.tick_s,
    }


async def _until(condition: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    """Poll ``condition`` (a flag another task sets) every 50 ms."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {timeout_s:.0f} s")
        await asyncio.sleep(0.05)


def _result_of(output: str, returncode: int | None) -> dict[str, Any]:
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            return result
    raise RuntimeError(f"the paced producer exited {returncode} without a result")


async def _stop(pipeline: Pipeline, tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    with contextlib.suppress(Exception):
        await asyncio.wait_for(pipeline.consumer.stop(), timeout=30)


def _profiled(coroutine: Any, path: Path) -> Any:
    """Run with pyinstrument, batches inline (the profiler samples one thread); text to path."""
    from pyinstrument import Profiler

    async def inline(function: Any, /, *args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    asyncio.to_thread = inline
    profiler = Profiler(interval=0.002, async_mode="disabled")
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
    parser.add_argument("--tick-s", type=float, default=2.0)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup-s", type=float, default=3.0)
    parser.add_argument("--hubs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--profile", type=Path, help="pyinstrument text profile here")
    args = parser.parse_args()
    if args.mode == "raw":
        work = raw(args.bootstrap, args.topic, args.expect)
    else:
        if args.hubs_file is None:
            parser.error(f"{args.mode} needs --hubs-file")
        registry = parse_hubs(args.hubs_file.read_text("utf-8"))
        if args.mode == "peakwatch":
            work = peakwatch(args.bootstrap, args.topic, args.expect, registry, args.tick_s)
        else:
            work = latency(args, registry, args.rate, args.seconds, args.warmup_s)
    result = _profiled(work, args.profile) if args.profile else asyncio.run(work)
    result["rss_mb"] = peak_rss_mb()
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
