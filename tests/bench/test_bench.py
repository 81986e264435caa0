"""The benchmarks' own logic: the feed ``make eval`` builds, and the latency split."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from bench.consume import _first_at_or_after, _last_closable_step, _released
from bench.detection import check_chunks, kafka_chunks, replay
from simulator.simulation import generate


def _records(chunk: int) -> list[tuple[int, int, bytes]]:
    simulation = generate("data_faults", hubs=40, seed=3)
    return [
        (partition, offset, value)
        for raw, _ in kafka_chunks(simulation, chunk=chunk)
        for partition, offset, value in zip(raw.partitions, raw.offsets, raw.values, strict=True)
    ]


def test_the_feed_is_the_same_records_whatever_the_batch_size() -> None:
    small, large = _records(97), _records(5_000)
    assert small == large
    for partition in {p for p, _, _ in small}:
        offsets = [o for p, o, _ in small if p == partition]
        assert offsets == list(range(len(offsets)))  # each partition's offsets, in order


def test_eval_gives_one_alert_history_whatever_the_batch_size() -> None:
    # an hour of a key hub losing power 30 min in: it goes silent, hub_silent fires
    hour = timedelta(hours=1)
    base = replay("hub_outage", hubs=40, seed=3, chunk=2_000, duration=hour)
    other = replay("hub_outage", hubs=40, seed=3, chunk=613, duration=hour)
    check = check_chunks(base, other)
    assert base.steps == other.steps == 60
    assert any(rule == "hub_silent" for rule, *_ in base.history)
    assert check.identical, check.first_difference


def test_a_step_closes_when_the_slowest_partition_passes_it() -> None:
    # partition 0 sends stamps 0, 10, 20 at wall 0, 1, 2; partition 1 stamps 5, 15 at 0.5, 3
    ts_ms = np.array([0, 5, 10, 15, 20])
    produced_s = np.array([0.0, 0.5, 1.0, 3.0, 2.0])
    partition = np.array([0, 1, 0, 1, 0])
    closing = _first_at_or_after(ts_ms, produced_s, partition, np.array([10, 12, 16]))
    assert closing[0] == 3.0  # partition 0 at 1.0, partition 1 (stamp 15) only at 3.0
    assert closing[1] == 3.0
    assert np.isnan(closing[2])  # partition 1 never sent a stamp ≥ 16
    released = _released(
        np.array([10, 10]), ts_ms[:2], produced_s[:2], partition[:2], lateness_ms=0
    )
    assert np.isnan(released).all()  # neither partition reached stamp 10 among these two
    assert _last_closable_step(ts_ms, partition, lateness_ms=5, step_ms=5) == 10
