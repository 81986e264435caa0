"""When a notification that was not delivered is tried again, and when delivery gives up on it.

The wait before attempt n + 1 doubles from ``backoff_initial_s`` up to ``backoff_max_s``; a row
recorded ``give_up_after_s`` ago or more is not tried again. Pure, with ``wall_now`` passed in:
the store writes the outcome (``store.outbox.retry_at``, ``store.outbox.mark_failed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.config import OutboxSettings
from alerts.notify.base import NotificationItem
from alerts.store.outbox import NextAttempt


def backoff_s(attempts: int, settings: OutboxSettings) -> float:
    """Seconds before attempt ``attempts + 1``: doubling from the initial delay, capped."""
    return float(
        min(settings.backoff_max_s, settings.backoff_initial_s * 2 ** max(attempts - 1, 0))
    )


@dataclass(frozen=True, slots=True)
class Retries:
    """What becomes of rows whose attempt just failed: tried again later, or given up."""

    again: list[NextAttempt]
    given_up: list[int]
    """Their outbox ids."""


def after_failure(
    items: Sequence[NotificationItem], *, wall_now: datetime, settings: OutboxSettings
) -> Retries:
    """Each failed row again after its back-off, unless it is ``give_up_after_s`` old."""
    give_up = timedelta(seconds=settings.give_up_after_s)
    again: list[NextAttempt] = []
    given_up: list[int] = []
    for item in items:
        if wall_now - item.created_at >= give_up:
            given_up.append(item.outbox_id)
            continue
        attempts = item.attempts + 1
        at = wall_now + timedelta(seconds=backoff_s(attempts, settings))
        again.append(NextAttempt(outbox_id=item.outbox_id, attempts=attempts, at=at))
    return Retries(again=again, given_up=given_up)
