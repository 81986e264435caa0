"""DingTalk (钉钉) custom robot: markdown messages, 加签 signing.

Signing, as DingTalk publishes it: with ``timestamp`` in milliseconds,
``sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))``, appended to
the webhook URL as ``&timestamp=…&sign=…``. DingTalk rejects a timestamp more than an hour off.

The robot answers HTTP 200 with ``{"errcode": 0}`` on success. ``130101`` (sending too fast)
and ``-1`` (busy) are worth retrying; anything else (bad token, signature, keyword) is not.
Each robot takes at most 20 messages a minute: the dispatcher merges the surplus into digests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote_plus

from alerts.config import DingTalkReceiver
from alerts.notify.base import Notification, check_robot_reply, post
from alerts.notify.http import HttpNotifier
from alerts.notify.render import Renderer

MAX_MARKDOWN_BYTES = 18_000  # DingTalk's limit is 20,000; leave room for the title and JSON
RETRY_CODES = {-1, 130101}


def sign(secret: str, timestamp_ms: int) -> str:
    """The URL-encoded 加签 signature for ``timestamp_ms``."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """``url`` with ``timestamp`` and ``sign`` query parameters added."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={sign(secret, timestamp_ms)}"


def message(
    notification: Notification, renderer: Renderer, *, at_mobiles: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``{"msgtype": "markdown", "markdown": {"title", "text"}, "at": …}``; the configured
    ``at_mobiles`` and the person on duty (their phone and DingTalk user id) are @-mentioned."""
    text = renderer.markdown(notification, flavour="dingtalk", max_bytes=MAX_MARKDOWN_BYTES)
    people = notification.people_on_duty()
    mobiles = list(dict.fromkeys([*at_mobiles, *(p.phone for p in people if p.phone)]))
    user_ids = list(dict.fromkeys(p.dingtalk_id for p in people if p.dingtalk_id))
    if mobiles or user_ids:  # DingTalk only rings the people whose @ appears in the text
        text += "\n\n" + " ".join(f"@{who}" for who in (*mobiles, *user_ids))
    return {
        "msgtype": "markdown",
        "markdown": {"title": renderer.title(notification), "text": text},
        "at": {"atMobiles": mobiles, "atUserIds": user_ids, "isAtAll": False},
    }


class DingTalkNotifier(HttpNotifier[DingTalkReceiver]):
    """Sends markdown to one DingTalk robot."""

    async def notify(self, notification: Notification) -> None:
        """POST one markdown message (signed when a secret is configured)."""
        url = self._config.url
        if self._config.secret is not None:
            timestamp_ms = int(self._clock() * 1000)
            url = signed_url(url, self._config.secret.get_secret_value(), timestamp_ms)
        payload = message(notification, self._renderer, at_mobiles=self._config.at_mobiles)
        response = await post(
            self._client, url, json_body=payload, timeout_s=self._config.timeout_s
        )
        check_robot_reply(response, code_field="errcode", retry_codes=RETRY_CODES)

    async def close(self) -> None:
        """Nothing to release: the HTTP client is shared."""
