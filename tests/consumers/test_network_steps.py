"""When the replica holding partition 0 decides a network step: once every partition's sums
for it are in, or once a missing partition's owner has been silent long enough."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from consumers.network_steps import NetworkStepper
from consumers.network_view import NetworkView
from core.config import RiskConfig

STEP_MS = 60_000
T0 = 1_794_326_400_000  # 2026-11-11T00:00:00+08:00


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _stepper(clock: Clock) -> NetworkStepper:
    view = NetworkView(bootstrap="127.0.0.1:9", topic="hub-status", clock=clock)
    config = RiskConfig(evaluation_step_s=STEP_MS // 1000)
    return NetworkStepper(view, partitions=[0, 1], config=config, wait_s=120, clock=clock)


def _sums(stepper: NetworkStepper, partition: int, *minutes: int) -> None:
    for minute in minutes:
        stepper.view.add_sums(T0 + minute * STEP_MS, {partition: pl.DataFrame()})


def _ready(stepper: NetworkStepper) -> list[datetime]:
    steps = [at for at, _ in stepper.ready()]
    stepper.done(steps)
    return steps


def _at(minute: int) -> datetime:
    return datetime.fromtimestamp((T0 + minute * STEP_MS) / 1000, tz=UTC)


def test_a_step_waits_for_a_slow_owner_that_keeps_publishing() -> None:
    clock = Clock()
    stepper = _stepper(clock)
    _sums(stepper, 0, *range(1, 13))  # partition 0's owner is at minute 12
    for minute in range(1, 11):  # partition 1's, catching up, publishes a step every 50 s
        _sums(stepper, 1, minute)
        assert _ready(stepper) == [_at(minute)]  # with partition 1's sums in it
        clock.now += 50
    assert _ready(stepper) == []  # 500 s on, minute 11 still waits for partition 1


def test_a_step_goes_on_without_an_owner_silent_for_the_wait() -> None:
    clock = Clock()
    stepper = _stepper(clock)
    _sums(stepper, 0, 1, 2)
    _sums(stepper, 1, 1)
    assert _ready(stepper) == [_at(1)]
    clock.now += 119
    assert _ready(stepper) == []
    clock.now += 2  # partition 1's owner published nothing for 121 s: gone
    assert _ready(stepper) == [_at(2)]


def test_a_step_waits_as_long_as_the_owner_says_it_polls() -> None:
    clock = Clock()
    stepper = _stepper(clock)
    _sums(stepper, 0, 1, 2)
    _sums(stepper, 1, 1)
    assert _ready(stepper) == [_at(1)]
    for _ in range(30):  # 5 min of a replica busy replaying, still polling
        clock.now += 10
        stepper.view.mark_alive(1)
        assert _ready(stepper) == []
    clock.now += 121  # then it falls silent
    assert _ready(stepper) == [_at(2)]
