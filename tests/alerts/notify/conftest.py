"""Fixtures of the notifier tests: the local robot receiver, and a one-alert run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from alerts.model import AlertChange
from alerts.service import AlertService
from tests.alerts.factories import T0, Clock, frame, row
from tests.alerts.notify.receiver import RobotReceiver

FIRE_AT_ONCE = {"default_periods": {"pending_s": 0, "clear_s": 0}}


@pytest.fixture
def robots() -> Iterator[RobotReceiver]:
    """The local DingTalk/Feishu/WeCom/webhook receiver, running."""
    receiver = RobotReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


def one_route(receiver: dict[str, object]) -> dict[str, object]:
    """Config: this receiver, every alert routed to it, no waiting."""
    return {
        **FIRE_AT_ONCE,
        "receivers": [receiver],
        "routes": [{"receivers": [receiver["name"]], "group_wait_s": 0, "group_interval_s": 0}],
    }


async def fire(service: AlertService, clock: Clock, *rows: dict[str, object]) -> list[AlertChange]:
    """Process one tick with these rows (firing at once) and run one delivery pass."""
    changes = await service.process(
        frame(*(rows or (row("ZTO-HZ-01", "red"),))),
        now=T0,
        owned_hubs=None,
        evaluates_network=True,
    )
    await service.deliver_due(wall_now=clock.advance(1))
    return changes


async def resolve(service: AlertService, clock: Clock, *, seconds: int = 60) -> list[AlertChange]:
    """A tick with no signal (resolves at once) and one delivery pass."""
    changes = await service.process(
        frame(), now=T0 + timedelta(seconds=seconds), owned_hubs=None, evaluates_network=True
    )
    await service.deliver_due(wall_now=clock.advance(1))
    return changes
