"""What the HTTP notifiers (DingTalk, Feishu, webhook) share: their receiver's settings, the
renderer that writes the message, one pooled client, and a clock for signatures."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

import httpx

from alerts.notify.render import Renderer


class _Named(Protocol):
    @property
    def name(self) -> str: ...


ReceiverT = TypeVar("ReceiverT", bound=_Named)


class HttpNotifier(Generic[ReceiverT]):
    """A notifier for one receiver, posting over ``client``; subclasses write ``notify``."""

    def __init__(
        self,
        config: ReceiverT,
        *,
        renderer: Renderer,
        client: httpx.AsyncClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config, self._renderer, self._client, self._clock = config, renderer, client, clock

    @property
    def name(self) -> str:
        """The receiver's name."""
        return self._config.name
