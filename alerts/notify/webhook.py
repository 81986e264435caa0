"""Generic webhook: one JSON POST per message, signed with HMAC-SHA256.

Headers (when the receiver has a ``secret``)::

    X-Peakwatch-Timestamp: 1762826400                      unix seconds, when it was signed
    X-Peakwatch-Signature: sha256=<hex>                    HMAC-SHA256(secret, "<timestamp>.<body>")
    X-Peakwatch-Notification-Id: <id>                      same on every retry: drop duplicates

A receiver verifies by recomputing the HMAC over the exact body bytes and rejecting timestamps
older than a few minutes (replay). The body is documented in docs/alerting.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from alerts.config import WebhookReceiver
from alerts.notify.base import Notification, post
from alerts.notify.http import HttpNotifier
from alerts.notify.render import Renderer
from core.levels import LEVEL_COLOURS

TIMESTAMP_HEADER = "X-Peakwatch-Timestamp"
SIGNATURE_HEADER = "X-Peakwatch-Signature"
ID_HEADER = "X-Peakwatch-Notification-Id"
BODY_VERSION = "1"


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 of ``<timestamp>.<body>`` keyed by ``secret``."""
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def body(notification: Notification, renderer: Renderer) -> dict[str, Any]:
    """The JSON document a webhook receives."""
    return {
        "version": BODY_VERSION,
        "notification_id": notification.id,
        "receiver": notification.receiver,
        "digest": notification.digest,
        "title": renderer.title(notification),
        "text": renderer.plain_text(notification),
        "items": [
            {
                "kind": item.kind,
                "previous_level": item.previous_level,
                "colour": LEVEL_COLOURS[item.alert.level],
                "alert": item.alert.as_json(),
                "links": {
                    "dashboard": renderer.links.dashboard(item.alert),
                    "ack": renderer.links.ack(item.alert),
                },
            }
            for item in notification.items
        ],
    }


class WebhookNotifier(HttpNotifier[WebhookReceiver]):
    """POSTs the JSON body to ``url``."""

    async def notify(self, notification: Notification) -> None:
        """POST one message; signed when a secret is configured."""
        content = json.dumps(body(notification, self._renderer), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", ID_HEADER: notification.id}
        if self._config.secret is not None:
            timestamp = str(int(self._clock()))
            secret = self._config.secret.get_secret_value().encode()
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = signature(secret, timestamp, content)
        await post(
            self._client,
            self._config.url,
            content=content,
            headers=headers,
            timeout_s=self._config.timeout_s,
        )

    async def close(self) -> None:
        """Nothing to release: the HTTP client is shared."""
