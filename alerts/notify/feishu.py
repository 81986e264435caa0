"""Feishu (飞书) custom bot: an interactive card in the level's colour, signed.

Signing, as Feishu publishes it: with ``timestamp`` in seconds,
``sign = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))``; both go in the JSON body
(``"timestamp": "…", "sign": "…"``). Feishu rejects a timestamp more than an hour off.

The bot answers ``{"code": 0}``. ``9499`` and ``11232``
(too many requests) are worth retrying; a bad signature (``19021``), an IP or keyword refusal is
not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from alerts.config import FeishuReceiver
from alerts.notify.base import Notification, check_robot_reply, post
from alerts.notify.http import HttpNotifier
from alerts.notify.render import Renderer
from alerts.notify.texts import text
from core.levels import LEVEL_RANK

MAX_CARD_BYTES = 20_000
RETRY_CODES = {9499, 11232}
HEADER_TEMPLATES = {"red": "red", "orange": "orange", "yellow": "yellow", "blue": "blue"}


def sign(secret: str, timestamp_s: int) -> str:
    """The base64 signature for ``timestamp_s``."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def card(notification: Notification, renderer: Renderer) -> dict[str, Any]:
    """An interactive card: coloured header, markdown body, dashboard and acknowledge buttons."""
    shown = notification.shown_items()
    worst = max(shown, key=lambda item: LEVEL_RANK[item.alert.level]).alert
    resolved = all(item.kind == "resolved" for item in shown)
    template = "green" if resolved else HEADER_TEMPLATES.get(worst.level, "grey")
    body = renderer.markdown(notification, flavour="feishu", max_bytes=MAX_CARD_BYTES)
    lang = renderer.language
    elements: list[dict[str, Any]] = [{"tag": "div", "text": {"tag": "lark_md", "content": body}}]
    people = [p for p in notification.people_on_duty() if p.feishu_id]
    if people:  # the person on duty, @-mentioned by their Feishu user id
        mention = " ".join(f"<at id={p.feishu_id}></at>" for p in people)
        elements.append({"tag": "div", "text": {"tag": "lark_md", "content": mention}})
    if notification.is_single:
        elements.append(
            {
                "tag": "action",
                "actions": [
                    _button(text("dashboard", lang), renderer.links.dashboard(worst), "default"),
                    _button(text("ack", lang), renderer.links.ack(worst), "primary"),
                ],
            }
        )
    return {
        "config": {"wide_screen_mode": True},
        "header": {
            "title": {"tag": "plain_text", "content": renderer.title(notification)},
            "template": template,
        },
        "elements": elements,
    }


def _button(label: str, url: str, kind: str) -> dict[str, Any]:
    return {
        "tag": "button",
        "text": {"tag": "plain_text", "content": label},
        "url": url,
        "type": kind,
    }


class FeishuNotifier(HttpNotifier[FeishuReceiver]):
    """Sends interactive cards to one Feishu bot."""

    async def notify(self, notification: Notification) -> None:
        """POST one card (signed when a secret is configured)."""
        payload: dict[str, Any] = {
            "msg_type": "interactive",
            "card": card(notification, self._renderer),
        }
        if self._config.secret is not None:
            timestamp_s = int(self._clock())
            payload["timestamp"] = str(timestamp_s)
            payload["sign"] = sign(self._config.secret.get_secret_value(), timestamp_s)
        response = await post(
            self._client, self._config.url, json_body=payload, timeout_s=self._config.timeout_s
        )
        check_robot_reply(response, code_field="code", retry_codes=RETRY_CODES)

    async def close(self) -> None:
        """Nothing to release: the HTTP client is shared."""
