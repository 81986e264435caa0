"""Builders shared by the alerting tests: signal rows and frames, alerts, outbox items, a fake
HTTP receiver for ``httpx.MockTransport``, a controllable clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import polars as pl

from alerts.evaluation.fingerprint import fingerprint
from alerts.model import Alert, NotificationKind, Signal
from alerts.notify.base import Notification, NotificationItem
from alerts.notify.render import Links, Renderer
from core.signals import SIGNAL_SCHEMA

T0 = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)
"""Event time of the first tick (20:00 in Beijing on 11.11)."""
WALL0 = datetime(2025, 11, 11, 12, 0, 5, tzinfo=UTC)


HUB_VALUES: dict[str, Any] = {
    "backlog": 455_000,
    "storage_capacity": 500_000,
    "utilization": 0.91,
    "arrival_rate_per_min": 2_400.0,
    "departure_rate_per_min": 1_500.0,
    "net_inflow_per_min": 900.0,
    "in_transit_parcels": 12_000,
    "time_to_overflow_s": 2_880.0,
    "sort_capacity_per_hour": 150_000,
    "silent_for_s": 0.0,
}
"""The ``values`` of a hub signal, with the keys ``core.summaries.hub_values`` writes."""


def row(
    subject: str = "ZTO-HZ-01",
    level: str = "orange",
    *,
    rule: str = "hub_overflow",
    scope: str = "hub",
    carrier: str | None = "ZTO",
    province: str | None = "浙江",
    values: dict[str, Any] | None = None,
    at: datetime = T0,
) -> dict[str, Any]:
    """One signal row as the core emits it."""
    numbers = values if values is not None else dict(HUB_VALUES)
    return {
        "rule": rule,
        "scope": scope,
        "subject": subject,
        "level": level,
        "hub_id": subject if scope == "hub" else None,
        "carrier": carrier if scope in ("hub", "carrier") else None,
        "province": province if scope in ("hub", "province") else None,
        "summary": f"{subject} 利用率 91%",
        "summary_en": f"{subject} at 91% of capacity",
        "values": json.dumps(numbers),
        "at": at,
    }


def frame(*rows: dict[str, Any]) -> pl.DataFrame:
    """A signal frame (``SIGNAL_SCHEMA``) of the rows."""
    return pl.DataFrame(list(rows), schema=SIGNAL_SCHEMA)


def signal(
    subject: str = "ZTO-HZ-01",
    level: str = "orange",
    *,
    rule: str = "hub_overflow",
    scope: str = "hub",
) -> Signal:
    """One ``Signal`` (what the lifecycle sees)."""
    data = row(subject, level, rule=rule, scope=scope)
    del data["at"]
    values_json = data.pop("values")
    return Signal(fingerprint=fingerprint(rule, scope, subject), values_json=values_json, **data)


def alert(subject: str = "ZTO-HZ-01", level: str = "orange", **changes: Any) -> Alert:
    """A firing alert built from ``signal``; override any field."""
    base = signal(
        subject, level, rule=changes.pop("rule", "hub_overflow"), scope=changes.pop("scope", "hub")
    )
    made = Alert(
        id=f"id-{base.subject}",
        state="firing",
        started_at=T0,
        fired_at=T0 + timedelta(minutes=2),
        **asdict(base),
    )
    return replace(made, **changes)


def item(
    outbox_id: int,
    the_alert: Alert | None = None,
    *,
    receiver: str = "ding",
    kind: NotificationKind = "firing",
    group_key: str | None = None,
    group_interval_s: float = 60.0,
    previous_level: str | None = None,
    created_at: datetime = WALL0,
) -> NotificationItem:
    """One outbox row as delivery sees it."""
    the_alert = the_alert or alert()
    return NotificationItem(
        outbox_id=outbox_id,
        receiver=receiver,
        group_key=group_key or f"0|rule={the_alert.rule}|subject={the_alert.subject}",
        group_interval_s=group_interval_s,
        kind=kind,
        alert=the_alert,
        previous_level=previous_level,
        created_at=created_at,
    )


def single(the_item: NotificationItem) -> Notification:
    """A one-item message."""
    return Notification(receiver=the_item.receiver, group_key=the_item.group_key, items=(the_item,))


LINKS = Links(public_url="https://peakwatch.example", ack_secret=b"ack-secret")


def renderer(language: str = "zh") -> Renderer:
    """A renderer with fixed links."""
    return Renderer(language=language, links=LINKS)  # type: ignore[arg-type]


@dataclass
class FakeReceiver:
    """An ``httpx.MockTransport`` handler that records requests and answers from a script.

    ``answers`` are consumed in order (status, JSON body); when empty, 200 ``{"errcode": 0}``.
    """

    answers: list[tuple[int, Any]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, body = self.answers.pop(0) if self.answers else (200, {"errcode": 0, "code": 0})
        if status == 0:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(status, json=body)

    def transport(self) -> httpx.MockTransport:
        """The transport to give ``AlertService.open``."""
        return httpx.MockTransport(self)

    def bodies(self, path_part: str = "") -> list[Any]:
        """JSON bodies of the requests whose URL contains ``path_part``."""
        return [json.loads(r.content) for r in self.requests if path_part in str(r.url)]


@dataclass
class Clock:
    """A wall clock the test moves by hand."""

    now: datetime = WALL0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move forward and return the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now


ClockFn = Callable[[], datetime]
