"""WeCom (企业微信) group robot: markdown messages.

Body: ``{"msgtype": "markdown", "markdown": {"content": …}}``, at most 4,096 bytes of UTF-8; a
digest that would be longer lists the worst alerts and says how many more. WeCom markdown knows
three font colours (``info`` green, ``comment`` grey, ``warning`` orange-red), so red and orange
show as ``warning`` and the level name and emoji carry the exact colour.

The robot answers ``{"errcode": 0}``; ``45009`` (over the 20-a-minute limit) and ``-1`` (busy)
are worth retrying, anything else (bad key, bad body) is not.
"""

from __future__ import annotations

from typing import Any

import httpx

from alerts.config import WeComReceiver
from alerts.notify.base import Notification, check_robot_reply, post
from alerts.notify.render import Renderer

MAX_CONTENT_BYTES = 4096
RETRY_CODES = {-1, 45009}


def message(notification: Notification, renderer: Renderer) -> dict[str, Any]:
    """``{"msgtype": "markdown", "markdown": {"content": …}}``, ending with ``<@userid>`` of the
    person on duty (WeCom markdown rings whoever it mentions so)."""
    people = notification.people_on_duty()
    mention = " ".join(dict.fromkeys(f"<@{p.wecom_id}>" for p in people if p.wecom_id))
    room = MAX_CONTENT_BYTES - (len(mention.encode()) + 2 if mention else 0)
    content = renderer.markdown(notification, flavour="wecom", max_bytes=room)
    if mention:
        content += "\n\n" + mention
    return {"msgtype": "markdown", "markdown": {"content": content}}


class WeComNotifier:
    """Sends markdown to one WeCom robot."""

    def __init__(
        self, config: WeComReceiver, *, renderer: Renderer, client: httpx.AsyncClient
    ) -> None:
        self._config, self._renderer, self._client = config, renderer, client

    @property
    def name(self) -> str:
        """The receiver's name."""
        return self._config.name

    async def notify(self, notification: Notification) -> None:
        """POST one markdown message."""
        payload = message(notification, self._renderer)
        response = await post(
            self._client, self._config.url, json_body=payload, timeout_s=self._config.timeout_s
        )
        check_robot_reply(response, code_field="errcode", retry_codes=RETRY_CODES)

    async def close(self) -> None:
        """Nothing to release: the HTTP client is shared."""
