from __future__ import annotations

from datetime import timedelta

import pytest

from simulator.simulation import Simulation, generate
from simulator.sinks import NullSink
from simulator.stream import stream


class FakeClock:
    """Wall time that only moves when the streamer sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(scope="module")
def simulation() -> Simulation:
    return generate("baseline", hubs=40, seed=1, duration=timedelta(minutes=10))


async def test_speed_60_sends_one_simulated_minute_per_second(simulation: Simulation) -> None:
    clock = FakeClock()
    result = await stream(simulation, NullSink(), speed=60, clock=clock, sleep=clock.sleep)

    assert result.minutes == 10
    assert clock.sleeps == pytest.approx([1.0] * 9)
    assert result.wall_s == pytest.approx(9.0)


async def test_max_speed_never_waits(simulation: Simulation) -> None:
    clock = FakeClock()
    result = await stream(simulation, NullSink(), speed=None, clock=clock, sleep=clock.sleep)

    assert clock.sleeps == []
    assert result.records == sum(len(batch) for batch in simulation.batches())


async def test_max_events_stops_before_the_limit(simulation: Simulation) -> None:
    first = len(next(iter(simulation.batches())))
    result = await stream(simulation, NullSink(), speed=None, max_events=first * 3 + 1)

    assert result.stopped_by_limit
    assert result.records <= first * 3 + 1
    assert result.minutes == 3
