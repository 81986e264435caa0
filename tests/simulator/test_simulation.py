from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from simulator.profile import BEIJING_TZ
from simulator.simulation import generate

_RUNNER = (
    "import argparse, sys\n"
    "from simulator.cli import add_simulate_arguments, run_simulate\n"
    "parser = argparse.ArgumentParser()\n"
    "add_simulate_arguments(parser)\n"
    "sys.exit(run_simulate(parser.parse_args(sys.argv[1:])))\n"
)


def _digest(scenario: str, seed: int) -> str:
    simulation = generate(scenario, hubs=60, seed=seed, duration=timedelta(minutes=20))
    digest = hashlib.sha256()
    for batch in simulation.batches():
        digest.update(b"\n".join(batch.records()))
    return digest.hexdigest()


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not() -> None:
    assert _digest("data_faults", 4) == _digest("data_faults", 4)
    assert _digest("data_faults", 4) != _digest("data_faults", 5)


def test_same_seed_gives_the_same_bytes_across_processes(tmp_path: Path) -> None:
    def run(hash_seed: str, name: str) -> bytes:
        out = tmp_path / name
        subprocess.run(
            [sys.executable, "-c", _RUNNER, "--scenario", "cascade", "--hubs", "60"]
            + ["--seed", "9", "--duration", "15m", "--speed", "max", "--target", "ndjson"]
            + ["--out", str(out), "--quiet"],
            check=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            timeout=120,
        )
        return out.read_bytes()

    first, second = run("1", "a.ndjson"), run("2", "b.ndjson")
    assert first == second
    assert len(first.splitlines()) > 1000


def test_start_and_duration_set_the_simulated_clock() -> None:
    start = datetime(2026, 11, 11, 0, 0, tzinfo=BEIJING_TZ)
    simulation = generate("baseline", hubs=40, seed=1, start=start, duration=timedelta(minutes=7))
    minutes = [batch.minute for batch in simulation.batches()]

    assert minutes[0] == start
    assert len(minutes) == 7
    assert simulation.end - simulation.start == timedelta(minutes=7)


def test_labels_and_hubs_files_are_written_as_json(tmp_path: Path) -> None:
    simulation = generate("hub_outage", hubs=40, seed=1, duration=timedelta(hours=1))
    simulation.write_labels(tmp_path / "labels.json")
    simulation.write_hubs(tmp_path / "hubs.jsonl")
    labels = json.loads((tmp_path / "labels.json").read_text("utf-8"))
    hubs = (tmp_path / "hubs.jsonl").read_text("utf-8").splitlines()

    assert labels["silences"][0]["cause"] == "outage"
    assert len(hubs) == 40
    assert "转运中心" in (tmp_path / "hubs.jsonl").read_text("utf-8")


def test_the_demo_network_sends_thousands_of_events_a_simulated_minute() -> None:
    simulation = generate("double11", hubs=300, seed=1, duration=timedelta(minutes=60))
    per_minute = [len(batch) for batch in simulation.batches()]

    assert min(per_minute) > 1_500
