from __future__ import annotations

import io
from datetime import timedelta

import httpx
import pytest

from simulator.simulation import Simulation, generate
from simulator.sinks import NullSink
from simulator.stream import AlertPoller, ProgressLine, count_alerts, stream


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


async def test_progress_shows_event_time_rate_and_firing_alerts(simulation: Simulation) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["state"] == "firing"
        return httpx.Response(200, json=[{"id": 1}, {"id": 2}])

    poller = AlertPoller(
        "http://svc", "k", httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )
    await poller.poll_once()
    out = io.StringIO()
    clock = FakeClock()
    await stream(
        simulation,
        NullSink(),
        speed=6,
        progress=ProgressLine("baseline", out, poller),
        clock=clock,
        sleep=clock.sleep,
    )
    await poller.close()
    last = out.getvalue().splitlines()[-1]

    assert "baseline | event time 2026-10-14 20:09 +08:00" in last
    assert "events/s" in last
    assert last.endswith("alerts firing 2")


@pytest.mark.parametrize(
    ("body", "count"),
    [([1, 2, 3], 3), ({"total": 4, "alerts": []}, 4), ({"alerts": [1]}, 1), ("x", None)],
)
def test_firing_alerts_are_counted_from_the_usual_answer_shapes(
    body: object, count: int | None
) -> None:
    assert count_alerts(body) == count
