"""What every notifier shares: the message it is given, the error it raises, the HTTP plumbing.

    Notification       one message to one receiver: one item, a group, or a digest
    NotificationItem   one outbox row in it: which alert, what happened (kind), in what state
    Notifier           ``async notify(notification) -> None``; raise ``NotifyError(retryable=…)``
    NotifyError        says whether trying again later can help

HTTP status classification (``check_status``): 2xx is delivered; 408, 429 and 5xx are retryable;
any other 4xx is not (the request itself is wrong: bad URL, token, signature or body). A
connection error or timeout is retryable.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol

import httpx

from alerts.duty import Shift
from alerts.measures import ExternalWarning, Mitigation
from alerts.model import Alert, NotificationKind
from core.errors import PeakwatchError

DigestReason = Literal["group", "network", "rate_limit"]
"""Why several notifications share a message: same group, network alert firing, rate limit."""


class NotifyError(PeakwatchError):
    """A notification was not delivered; ``retryable`` says whether a later attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class NotificationItem:
    """One outbox row: an alert snapshot, what happened to it, and its delivery bookkeeping."""

    outbox_id: int
    receiver: str
    group_key: str
    group_interval_s: float
    kind: NotificationKind
    alert: Alert
    previous_level: str | None
    created_at: datetime
    attempts: int = 0
    firing_for_s: float | None = None
    """Reminders: how long (wall clock) the alert had been firing when the reminder was due."""
    mitigations: tuple[Mitigation, ...] = ()
    """The carrier's measures for the alert's hub, read when the message is sent."""
    warnings: tuple[ExternalWarning, ...] = ()
    """External warnings of the alert's province valid during it, read when it is sent."""
    on_duty: Shift | None = None
    """Whom to @-mention and e-mail: the province's person on duty (the leader on call for an
    escalation), from the duty roster when the message is sent (``alerts.store.duty``)."""

    @property
    def scope(self) -> str:
        """The alert's scope (``hub``, ``province``, ``carrier``, ``network``)."""
        return self.alert.scope


@dataclass(frozen=True, slots=True)
class Notification:
    """One message to one receiver."""

    receiver: str
    group_key: str
    items: tuple[NotificationItem, ...]
    digest: DigestReason | None = None

    @property
    def id(self) -> str:
        """Stable over retries of the same items: receivers can use it to drop duplicates."""
        ids = ",".join(str(item.outbox_id) for item in sorted(self.items, key=_outbox_id))
        return hashlib.sha256(f"{self.receiver}:{ids}".encode()).hexdigest()[:24]

    @property
    def is_single(self) -> bool:
        """About one alert, not a digest."""
        return len(self.shown_items()) == 1 and self.digest is None

    def people_on_duty(self) -> tuple[Shift, ...]:
        """The people on duty its items name, once each (chat @-mentions, e-mail recipients)."""
        found = {(i.on_duty.person, i.on_duty.role): i.on_duty for i in self.items if i.on_duty}
        return tuple(found.values())

    def shown_items(self) -> tuple[NotificationItem, ...]:
        """What people are shown: one item per alert, its latest state.

        A message can carry several rows of one alert (it fired, then rose to 橙, during the
        group wait); people see it once, at its latest level, still as "fired" when it is new
        to them. Machine receivers (Alertmanager, webhook ``items``) get every row.
        """
        latest: dict[str, NotificationItem] = {}
        fired: set[str] = set()
        for item in sorted(self.items, key=_outbox_id):
            latest[item.alert.id] = item
            if item.kind == "firing":
                fired.add(item.alert.id)
        return tuple(
            replace(item, kind="firing", previous_level=None)
            if item.kind == "level_changed" and item.alert.id in fired
            else item
            for item in latest.values()
        )


def _outbox_id(item: NotificationItem) -> int:
    return item.outbox_id


class Notifier(Protocol):
    """Sends notifications to one receiver."""

    @property
    def name(self) -> str:
        """The receiver's configured name."""
        ...

    async def notify(self, notification: Notification) -> None:
        """Deliver, or raise ``NotifyError`` saying whether a retry can help."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def check_status(response: httpx.Response) -> None:
    """Raise ``NotifyError`` unless the response is 2xx (see the module docstring)."""
    status = response.status_code
    if 200 <= status < 300:
        return
    retryable = status in (408, 429) or status >= 500
    raise NotifyError(f"HTTP {status}: {response.text[:200]}", retryable=retryable)


async def post(
    client: httpx.AsyncClient,
    url: str,
    *,
    json_body: Any = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = 10.0,
) -> httpx.Response:
    """POST and classify: transport errors are retryable; non-2xx raises via ``check_status``."""
    try:
        response = await client.post(
            url, json=json_body, content=content, headers=headers, timeout=timeout_s
        )
    except httpx.TransportError as error:
        raise NotifyError(f"{type(error).__name__}: {error}", retryable=True) from error
    check_status(response)
    return response


def check_robot_reply(response: httpx.Response, *, code_field: str, retry_codes: set[int]) -> None:
    """Chat robots answer HTTP 200 with an error code in the body; 0 is success."""
    try:
        body = response.json()
    except ValueError as error:
        raise NotifyError(
            f"robot answered non-JSON: {response.text[:200]}", retryable=True
        ) from error
    code = body.get(code_field, 0) if isinstance(body, dict) else 0
    if code in (0, None):
        return
    raise NotifyError(f"robot refused: {body}", retryable=int(code) in retry_codes)
