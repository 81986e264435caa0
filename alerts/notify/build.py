"""The notifier for a configured receiver (the one place that knows every integration)."""

from __future__ import annotations

import httpx

from alerts.config import (
    AlertmanagerReceiver,
    DingTalkReceiver,
    EmailReceiver,
    FeishuReceiver,
    Receiver,
    WebhookReceiver,
    WeComReceiver,
)
from alerts.notify.alertmanager import AlertmanagerNotifier
from alerts.notify.base import Notifier
from alerts.notify.dingtalk import DingTalkNotifier
from alerts.notify.email import EmailNotifier
from alerts.notify.feishu import FeishuNotifier
from alerts.notify.render import Renderer
from alerts.notify.webhook import WebhookNotifier
from alerts.notify.wecom import WeComNotifier


def build_notifier(
    receiver: Receiver, *, renderer: Renderer, client: httpx.AsyncClient
) -> Notifier:
    """The notifier for one configured receiver."""
    if isinstance(receiver, WebhookReceiver):
        return WebhookNotifier(receiver, renderer=renderer, client=client)
    if isinstance(receiver, AlertmanagerReceiver):
        return AlertmanagerNotifier(receiver, links=renderer.links, client=client)
    if isinstance(receiver, DingTalkReceiver):
        return DingTalkNotifier(receiver, renderer=renderer, client=client)
    if isinstance(receiver, WeComReceiver):
        return WeComNotifier(receiver, renderer=renderer, client=client)
    if isinstance(receiver, FeishuReceiver):
        return FeishuNotifier(receiver, renderer=renderer, client=client)
    assert isinstance(receiver, EmailReceiver)
    return EmailNotifier(receiver, renderer=renderer)
