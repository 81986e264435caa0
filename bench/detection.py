"""``make eval``: each scenario through the real pipeline pieces, scored against its ground truth.

For every scenario the simulator's records go, minute by minute, through what a service process
runs: ``decode_batch`` → registry check → ``Engine.apply``; at each simulated minute the evaluation
tick (hub rules + province/network rules) and the alert lifecycle (``alerts.lifecycle.decide`` with
the default pending and clear periods, in event time). The alerts that fire are compared with the
labels the simulator wrote. Results: docs/DETECTION.md.

    .venv/bin/python -m bench.detection [--hubs 300] [--seed 11] [--out docs/DETECTION.md]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from alerts.config import AlertingConfig
from alerts.lifecycle import decide
from alerts.model import Alert
from alerts.tick import signals_by_fingerprint
from core import hub_rules
from core.engine import Engine, network_signals
from core.events import decode_batch
from core.levels import LEVEL_RANK
from core.registry import check_events
from simulator.scenarios import SCENARIOS
from simulator.simulation import generate

OUT = Path(__file__).resolve().parent.parent / "docs" / "DETECTION.md"


@dataclass
class Run:
    """What fired during one scenario: first firing time per (rule, subject, level floor)."""

    scenario: str
    labels: dict[str, object]
    first: dict[tuple[str, str, str], datetime] = field(default_factory=dict)
    events: int = 0
    rejected: int = 0
    wall_s: float = 0.0


def _note(run: Run, alerts: dict[str, Alert], now: datetime) -> None:
    for alert in alerts.values():
        if alert.state != "firing":
            continue
        for floor in ("yellow", "orange", "red"):
            if LEVEL_RANK[alert.level] >= LEVEL_RANK[floor]:
                run.first.setdefault((alert.rule, alert.subject, floor), now)


def replay(scenario: str, *, hubs: int, seed: int) -> Run:
    """Run one scenario through decode, engine, rules and lifecycle."""
    started = time.perf_counter()
    simulation = generate(scenario, hubs=hubs, seed=seed)
    registry = simulation.registry
    engine = Engine(registry)
    config = AlertingConfig()
    alerts: dict[str, Alert] = {}
    ids = itertools.count()
    run = Run(scenario, simulation.labels)
    for batch in simulation.batches():
        records = batch.records()
        decoded = decode_batch(records)
        valid, unregistered = check_events(decoded.events, registry)
        valid = valid.with_columns(partition=pl.lit(0, pl.Int32))
        now = batch.minute + timedelta(minutes=2)
        result = engine.apply(valid, now=now)
        run.events += len(records)
        run.rejected += decoded.rejects.height + unregistered.height + result.quarantined.height
        watermark = engine.watermark()
        if watermark is None:
            continue
        states = engine.hub_states()
        signals = pl.concat(
            [hub_rules.signals(states), network_signals(states, at=watermark, config=engine.config)]
        )
        decision = decide(
            alerts,
            signals_by_fingerprint(signals),
            now=watermark,
            periods=config.periods_for,
            authoritative=lambda scope, subject: True,
            new_id=lambda: f"a{next(ids)}",
        )
        for alert in decision.inserts + decision.updates:
            alerts[alert.fingerprint] = alert
        for alert_id in decision.deletes:
            alerts = {k: a for k, a in alerts.items() if a.id != alert_id}
        _note(run, alerts, watermark)
    run.wall_s = time.perf_counter() - started
    return run


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
    overflows: list[dict[str, str]] = run.labels["overflows"]  # type: ignore[assignment]
    leads: dict[str, list[float]] = {"orange": [], "red": []}
    caught = 0
    for overflow in overflows:
        at = _parse(overflow["start"])
        for floor in ("orange", "red"):
            first = run.first.get(("hub_overflow", overflow["hub_id"], floor))
            if first is not None and first <= at + timedelta(minutes=5):
                leads[floor].append(_minutes(at - first))
                caught += floor == "orange"
    silences: list[dict[str, str]] = run.labels["silences"]  # type: ignore[assignment]
    silent_hubs = {s["hub_id"] for s in silences}
    at_orange = {(rule, subject) for rule, subject, floor in run.first if floor == "orange"}
    return Score(
        overflows=len(overflows),
        caught=caught,
        lead_orange=leads["orange"],
        lead_red=leads["red"],
        silences=len(silent_hubs),
        silent_caught=sum(("hub_silent", hub, "yellow") in run.first for hub in silent_hubs),
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


HEADER = """# Detection quality

Written by `make eval` (`.venv/bin/python -m bench.detection --hubs {hubs} --seed {seed}`).
Each scenario of the simulator runs through the real pipeline pieces (decode → registry check →
engine → hub and network rules → alert lifecycle with the default pending and clear periods, all
in event time) and is scored against the ground truth the simulator writes (`--labels`).

- **caught**: a `hub_overflow` alert was firing at orange or worse no later than 5 min after the
  labelled overflow (backlog > storage capacity);
- **lead**: labelled overflow time minus the first tick the alert was firing at that level,
  median / minimum, in minutes (negative: after the overflow);
- **false alarms**: hubs with a `hub_overflow` alert at orange or worse that never overflow in the
  ground truth, and `hub_silent` at orange or worse on hubs that were never silenced; province
  and network alerts at orange or worse are listed for reading (they follow from hub alerts).

An overflow that happens while its hub sends no data (`hub_outage`: the hub loses power and goes
silent) cannot be seen in the hub's own numbers; what catches it is `hub_silent`, red for a key
node (column "silent caught").

| scenario | events | overflows | caught | lead orange | lead red | silent caught | false overflow | false silent | province/network ≥ orange | wall s |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | ---: |
"""  # noqa: E501


def render(results: list[tuple[Run, Score]], *, hubs: int, seed: int) -> str:
    """The markdown report."""
    lines = [HEADER.format(hubs=hubs, seed=seed).rstrip("\n")]
    for run, result in results:
        lines.append(
            f"| {run.scenario} | {run.events:,} | {result.overflows} | {result.caught} | "
            f"{_lead(result.lead_orange)} | {_lead(result.lead_red)} | "
            f"{result.silent_caught} / {result.silences} | {_names(result.false_overflow)} | "
            f"{_names(result.false_silent)} | {_names(result.other_orange) or '—'} | "
            f"{run.wall_s:.0f} |"
        )
    summaries = "; ".join(f"`{name}`: {spec.summary}" for name, spec in SCENARIOS.items())
    return "\n".join([*lines, "", f"Scenarios: {summaries}.", ""])


def main() -> int:
    """Entry point of ``make eval``."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hubs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--scenario", action="append", help="only these scenarios (repeatable)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    results = []
    for name in args.scenario or list(SCENARIOS):
        print(f"eval: {name} …", file=sys.stderr, flush=True)
        run = replay(name, hubs=args.hubs, seed=args.seed)
        result = score(run)
        caught = f"{result.caught}/{result.overflows} overflows caught"
        print(f"eval: {name}: {caught}, {run.wall_s:.0f} s", file=sys.stderr)
        results.append((run, result))
    args.out.write_text(render(results, hubs=args.hubs, seed=args.seed), encoding="utf-8")
    print(f"eval: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
