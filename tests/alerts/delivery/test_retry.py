"""After a failed send: the back-off doubles up to its cap, and a row as old as
``give_up_after_s`` is given up instead of tried again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.config import OutboxSettings
from alerts.delivery.retry import after_failure, backoff_s
from alerts.store.outbox import NextAttempt
from tests.alerts.factories import WALL0, item

SETTINGS = OutboxSettings(backoff_initial_s=5, backoff_max_s=60, give_up_after_s=3600)


@pytest.mark.parametrize(
    ("attempts", "delay_s"), [(1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (12, 60)]
)
def test_backoff_doubles_up_to_the_cap(attempts: int, delay_s: float) -> None:
    assert backoff_s(attempts, SETTINGS) == delay_s


def test_a_failed_row_waits_its_back_off_until_it_is_too_old() -> None:
    young = item(1, created_at=WALL0)
    old = item(2, created_at=WALL0 - timedelta(hours=1))
    retries = after_failure([young, old], wall_now=WALL0, settings=SETTINGS)
    assert retries.again == [NextAttempt(outbox_id=1, attempts=1, at=WALL0 + timedelta(seconds=5))]
    assert retries.given_up == [2]
