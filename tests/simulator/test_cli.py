from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from core.events import decode_batch
from core.registry import parse_hubs
from simulator.cli import add_simulate_arguments, run_simulate


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="peakwatch simulate")
    add_simulate_arguments(parser)
    return parser.parse_args(list(argv))


def test_a_run_writes_events_labels_and_the_hub_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, labels, hubs = (
        tmp_path / "events.ndjson",
        tmp_path / "labels.json",
        tmp_path / "hubs.jsonl",
    )
    args = _parse(
        "--scenario", "hub_outage", "--hubs", "40", "--seed", "3", "--duration", "45m",
        "--speed", "max", "--target", "ndjson", "--out", str(out),
        "--labels", str(labels), "--hubs-out", str(hubs),
    )  # fmt: skip

    assert run_simulate(args) == 0
    records = out.read_bytes().splitlines()
    assert decode_batch(records).rejects.is_empty()
    assert json.loads(labels.read_text("utf-8"))["silences"][0]["cause"] == "outage"
    assert parse_hubs(hubs.read_text("utf-8")).height == 40
    assert f"{len(records):,} events in 45 simulated minutes" in capsys.readouterr().err


def test_max_events_zero_only_writes_the_files(tmp_path: Path) -> None:
    hubs = tmp_path / "hubs.jsonl"
    args = _parse("--scenario", "double11", "--hubs", "40", "--target", "none")
    args.max_events, args.hubs_out = 0, hubs

    assert run_simulate(args) == 0
    assert len(hubs.read_text("utf-8").splitlines()) == 40


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--speed", "fast"], "--speed"),
        (["--hubs", "10"], "--hubs"),
        (["--duration", "soon"], "--duration"),
        (["--start", "yesterday"], "--start"),
    ],
)
def test_bad_options_name_the_option(
    argv: list[str], field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        _parse("--scenario", "baseline", *argv)
    assert field in capsys.readouterr().err


def test_options_read_as_documented() -> None:
    args = _parse(
        "--scenario", "baseline", "--speed", "max", "--duration", "90m",
        "--start", "2026-11-11T00:00:00", "--api-key", "ZTO=k1", "--api-key", "admin-key",
    )  # fmt: skip

    assert args.speed is None
    assert args.duration.total_seconds() == 5400
    assert args.start.isoformat() == "2026-11-11T00:00:00+08:00"
    assert args.api_key == ["ZTO=k1", "admin-key"]
    assert _parse("--scenario", "baseline", "--speed", "120").speed == 120.0


def test_http_target_without_a_key_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse("--scenario", "baseline", "--hubs", "40", "--target", "http", "--duration", "1m")

    assert run_simulate(args) == 2
    assert "--api-key" in capsys.readouterr().err
