"""What the benchmark processes share: progress lines, peak memory, result lines, statistics.

Every measurement runs in a process of its own, which prints one line ``RESULT {json}`` at the
end; the orchestrator (``bench/__main__.py``) reads it. Peak memory is that process's own VmHWM.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "RESULT "
_STARTED = time.monotonic()
LOADS: list[float] = []
"""The machine's 1-minute load average at each progress line (the machine is shared)."""


def progress(message: str) -> None:
    """One progress line on stderr, with the seconds since the bench started and the load."""
    load = os.getloadavg()[0]
    LOADS.append(load)
    elapsed = time.monotonic() - _STARTED
    print(f"bench [{elapsed:6.1f} s, load {load:4.1f}] {message}", file=sys.stderr, flush=True)


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory (VmHWM) of a process, in MiB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def emit(result: dict[str, Any]) -> None:
    """Print this process's result line (with its own peak memory) for the orchestrator."""
    result.setdefault("rss_mb", peak_rss_mb())
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def run_child(args: Sequence[str], *, timeout_s: float, label: str) -> dict[str, Any]:
    """Run ``python -m <args>`` to completion (bounded) and return its result line."""
    command = [sys.executable, "-m", *args]
    try:
        finished = subprocess.run(
            command,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"{label}: no result within {timeout_s:.0f} s") from error
    for line in reversed(finished.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            return result
    raise BenchError(
        f"{label}: exited {finished.returncode} without a result:\n{finished.stderr[-3000:]}"
    )


class BenchError(RuntimeError):
    """A measurement could not be taken."""


@dataclass(frozen=True)
class Figure:
    """The median of several runs and their spread."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def low(self) -> float:
        return min(self.values) if self.values else float("nan")

    @property
    def high(self) -> float:
        return max(self.values) if self.values else float("nan")

    def text(self, fmt: str = ",.0f", unit: str = "") -> str:
        """``median (min–max, n runs)``."""
        if not self.values:
            return "—"
        if len(self.values) == 1:
            return f"{self.median:{fmt}}{unit} (1 run)"
        return (
            f"{self.median:{fmt}}{unit} ({self.low:{fmt}}–{self.high:{fmt}}, "
            f"{len(self.values)} runs)"
        )


def figure(runs: Sequence[dict[str, Any]], key: str) -> Figure:
    """The figure of ``key`` over the runs that have it."""
    return Figure(tuple(float(run[key]) for run in runs if run.get(key) is not None))


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending sequence (nan when empty)."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return float(sorted_values[rank])
