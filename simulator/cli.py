"""``peakwatch simulate``: the Double-11 traffic generator on the command line.

add_simulate_arguments(parser)   the options (the app's CLI owns the ``simulate`` sub-command)
run_simulate(args) -> int        0 done, 1 a sink failed, 2 bad options, 130 interrupted
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path

from core.errors import PeakwatchError
from simulator.network import MAX_HUBS, MIN_HUBS
from simulator.profile import BEIJING_TZ
from simulator.scenarios import SCENARIOS
from simulator.simulation import Simulation, generate
from simulator.sinks import TOPIC, HttpSink, KafkaSink, NdjsonSink, NullSink, Sink
from simulator.stream import AlertPoller, ProgressLine, StreamResult, stream

DEFAULT_HUBS = 300
DEFAULT_SEED = 11
DEFAULT_SPEED = 60.0
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$")
_UNIT_S = {"s": 1, "m": 60, "": 60, "h": 3600, "d": 86400}


def add_simulate_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``peakwatch simulate`` to ``parser``."""
    scenarios = "; ".join(f"{name}: {spec.summary}" for name, spec in SCENARIOS.items())
    parser.description = f"Scenarios — {scenarios}."
    parser.add_argument("--scenario", required=True, choices=list(SCENARIOS))
    parser.add_argument(
        "--speed",
        type=_speed,
        default=DEFAULT_SPEED,
        help="simulated time per wall time: 60 = one simulated minute a second; 0 or max = "
        f"as fast as possible (default {DEFAULT_SPEED:g})",
    )
    parser.add_argument(
        "--target", choices=["kafka", "http", "ndjson", "none"], default="kafka",
        help="kafka (topic, key = hub_id), http (POST /v1/events), ndjson (--out), none",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="same seed, same events")
    parser.add_argument("--hubs", type=_hubs, default=DEFAULT_HUBS, help="network size (31-5000)")
    parser.add_argument("--labels", type=Path, help="write the ground truth (JSON) here")
    parser.add_argument("--hubs-out", type=Path, help="write the hub registry (JSON lines) here")
    parser.add_argument(
        "--start", type=_start, help="first simulated minute, RFC 3339 (no offset: Beijing time)"
    )
    parser.add_argument(
        "--duration", type=_duration, help="e.g. 90m, 12h, 2d (default: per scenario)"
    )
    parser.add_argument("--max-events", type=int, help="stop before sending more than this many")
    parser.add_argument(
        "--bootstrap",
        default=os.environ.get("PEAKWATCH_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        help="Kafka bootstrap (default $PEAKWATCH_KAFKA_BOOTSTRAP or 127.0.0.1:9092)",
    )
    parser.add_argument("--topic", default=TOPIC, help=f"Kafka topic (default {TOPIC})")
    parser.add_argument(
        "--url",
        default=f"http://127.0.0.1:{os.environ.get('PEAKWATCH_HTTP_PORT', '8000')}",
        help="the service, for --target http and for counting firing alerts",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY|CODE=KEY",
        help="bearer key for every carrier, or one per carrier (ZTO=...); repeatable",
    )
    parser.add_argument("--out", default="-", help="file for --target ndjson (default stdout)")
    parser.add_argument("--quiet", action="store_true", help="no progress line")


def run_simulate(args: argparse.Namespace) -> int:
    """Run ``peakwatch simulate``; returns the exit code. Ctrl-C or SIGTERM stop it cleanly."""
    try:
        simulation = generate(
            args.scenario, hubs=args.hubs, seed=args.seed, start=args.start, duration=args.duration
        )
        if args.hubs_out:
            simulation.write_hubs(args.hubs_out)
        if args.labels:
            simulation.write_labels(args.labels)
        result = asyncio.run(_main(simulation, args))
    except KeyboardInterrupt:
        print("simulate: interrupted", file=sys.stderr)
        return 130
    except PeakwatchError as error:
        print(f"simulate: {error}", file=sys.stderr)
        return 2 if not error.retryable else 1
    except OSError as error:
        print(f"simulate: {error}", file=sys.stderr)
        return 1
    print(
        f"simulate: {result.records:,} events in {result.minutes:,} simulated minutes, "
        f"{result.wall_s:.1f} s ({result.records_per_s:,.0f} events/s)"
        + (" — stopped at --max-events" if result.stopped_by_limit else ""),
        file=sys.stderr,
    )
    return 0


async def _main(simulation: Simulation, args: argparse.Namespace) -> StreamResult:
    task = asyncio.current_task()
    if task is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    keys = _api_keys(args.api_key)
    sink = await _open_sink(args, keys)
    poller = AlertPoller(args.url, keys.get("") or next(iter(keys.values()))) if keys else None
    polling = asyncio.create_task(poller.run()) if poller else None
    progress = None if args.quiet else ProgressLine(simulation.scenario.name, sys.stderr, poller)
    try:
        return await stream(
            simulation, sink, speed=args.speed, max_events=args.max_events, progress=progress
        )
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None
    finally:
        if polling is not None:
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
        if poller is not None:
            await poller.close()
        await sink.close()


async def _open_sink(args: argparse.Namespace, keys: dict[str, str]) -> Sink:
    if args.target == "kafka":
        kafka = KafkaSink(args.bootstrap, args.topic)
        try:
            await kafka.start()
        except BaseException:
            await kafka.close()
            raise
        return kafka
    if args.target == "http":
        if not keys:
            raise PeakwatchError("api-key: --target http needs --api-key")
        return HttpSink(args.url.rstrip("/"), keys)
    if args.target == "ndjson":
        if args.out == "-":
            return NdjsonSink(sys.stdout.buffer, close=False)
        return NdjsonSink(await asyncio.to_thread(Path(args.out).open, "wb"))
    return NullSink()


def _api_keys(values: list[str]) -> dict[str, str]:
    """``KEY`` -> {"": KEY}; ``ZTO=KEY`` -> {"ZTO": KEY}."""
    keys: dict[str, str] = {}
    for value in values:
        code, sep, key = value.partition("=")
        if sep and re.fullmatch(r"[A-Z0-9_]{1,16}", code):
            keys[code] = key
        else:
            keys[""] = value
    return keys


def _speed(text: str) -> float | None:
    if text.strip().lower() in ("max", "0", "0.0", "inf"):
        return None
    try:
        speed = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError("must be a number > 0, or max") from error
    if speed < 0:
        raise argparse.ArgumentTypeError("must be a number > 0, or max")
    return speed or None


def _hubs(text: str) -> int:
    value = int(text)
    if not MIN_HUBS <= value <= MAX_HUBS:
        raise argparse.ArgumentTypeError(f"must be from {MIN_HUBS} to {MAX_HUBS}")
    return value


def _start(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            "must be RFC 3339, e.g. 2026-11-10T20:00:00+08:00"
        ) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING_TZ)


def _duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise argparse.ArgumentTypeError("must be a number with s, m, h or d (e.g. 90m, 12h)")
    seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    if seconds < 60:
        raise argparse.ArgumentTypeError("must be at least one minute")
    return timedelta(seconds=seconds)
