"""Prometheus Alertmanager, API v2: ``POST /api/v2/alerts`` with a JSON array of alerts.

Each alert is pushed with labels (``alertname`` = rule id, ``rule``, ``scope``, ``subject``,
``severity`` = level, ``hub_id``/``carrier``/``province`` where they apply) and annotations
(``summary`` in Chinese, ``summary_en``, ``values`` as JSON, ``dashboard_url``, ``ack_url``).

- firing: ``startsAt`` = when it fired (event time), ``endsAt`` = now + 4 × the resend interval.
  Alertmanager resolves an alert by itself once ``endsAt`` passes, so ``sync`` re-sends every
  firing alert each ``resend_interval_s`` (as Prometheus does);
- level change: the alert with the new ``severity`` is pushed, and the old label set is ended;
- resolved: ``endsAt`` = when it went clear (never later than now, so Alertmanager marks it
  resolved at once).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from alerts.config import AlertmanagerReceiver
from alerts.model import Alert, rfc3339
from alerts.notify.base import Notification, NotificationItem, post
from alerts.notify.render import Links

CHUNK = 500  # alerts per POST


def _now() -> datetime:
    return datetime.now(UTC)


def labels(alert: Alert) -> dict[str, str]:
    """Alertmanager labels of an alert (its identity there: level included, as ``severity``)."""
    result = {
        "alertname": alert.rule,
        "rule": alert.rule,
        "scope": alert.scope,
        "subject": alert.subject,
        "severity": alert.level,
        "source": "peakwatch",
    }
    result.update({k: v for k in ("hub_id", "carrier", "province") if (v := getattr(alert, k))})
    return result


def am_alert(alert: Alert, *, ends_at: datetime, links: Links) -> dict[str, Any]:
    """One element of the ``POST /api/v2/alerts`` array."""
    starts_at = alert.fired_at or alert.started_at
    return {
        "labels": labels(alert),
        "annotations": {
            "summary": alert.summary,
            "summary_en": alert.summary_en,
            "values": json.dumps(alert.values(), ensure_ascii=False, sort_keys=True),
            "dashboard_url": links.dashboard(alert),
            "ack_url": links.ack(alert),
            "peakwatch_alert_id": alert.id,
        },
        "startsAt": rfc3339(starts_at),
        "endsAt": rfc3339(max(ends_at, starts_at)),
        "generatorURL": links.dashboard(alert),
    }


def item_alerts(
    item: NotificationItem, *, now: datetime, firing_ttl: timedelta, links: Links
) -> list[dict[str, Any]]:
    """What one outbox item pushes: the alert, plus the ended old label set on a level change."""
    alert = item.alert
    if item.kind == "resolved":
        resolved_at = alert.resolved_at or now
        return [am_alert(alert, ends_at=min(resolved_at, now), links=links)]
    pushed = [am_alert(alert, ends_at=now + firing_ttl, links=links)]
    if item.kind == "level_changed" and item.previous_level is not None:
        old = replace(alert, level=item.previous_level)
        pushed.append(am_alert(old, ends_at=now, links=links))
    return pushed


class AlertmanagerNotifier:
    """Pushes to one Alertmanager; ``sync`` keeps its firing alerts from timing out."""

    def __init__(
        self,
        config: AlertmanagerReceiver,
        *,
        links: Links,
        client: httpx.AsyncClient,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._config, self._links, self._client, self._clock = config, links, client, clock
        self._ttl = timedelta(seconds=4 * config.resend_interval_s)

    @property
    def name(self) -> str:
        """The receiver's name."""
        return self._config.name

    @property
    def resend_interval_s(self) -> float:
        """How often firing alerts must be re-sent."""
        return self._config.resend_interval_s

    async def notify(self, notification: Notification) -> None:
        """Push every item of the message in one request."""
        now = self._clock()
        payload = [
            pushed
            for item in notification.items
            for pushed in item_alerts(item, now=now, firing_ttl=self._ttl, links=self._links)
        ]
        await self._push(payload)

    async def sync(self, firing: Sequence[Alert]) -> None:
        """Re-send every firing alert (Alertmanager would resolve them once ``endsAt`` passes)."""
        now = self._clock()
        await self._push([am_alert(a, ends_at=now + self._ttl, links=self._links) for a in firing])

    async def _push(self, payload: list[dict[str, Any]]) -> None:
        url = f"{self._config.url.rstrip('/')}/api/v2/alerts"
        for start in range(0, len(payload), CHUNK):
            await post(
                self._client,
                url,
                json_body=payload[start : start + CHUNK],
                timeout_s=self._config.timeout_s,
            )

    async def close(self) -> None:
        """Nothing to release: the HTTP client is shared."""
