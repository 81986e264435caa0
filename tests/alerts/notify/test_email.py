"""E-mail through a real local SMTP server (aiosmtpd): subject, text and HTML parts, links;
a refused mailbox is not retried, a temporary refusal is."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from alerts.config import EmailReceiver
from alerts.notify.base import NotifyError
from alerts.notify.email import EmailNotifier
from tests.alerts.conftest import ServiceFactory
from tests.alerts.factories import Clock, alert, item, renderer, row, single
from tests.alerts.notify.conftest import fire, one_route
from tests.support.postgres import free_port


@dataclass
class Mailbox:
    """An aiosmtpd handler: keeps every message; refuses recipients by their local part."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802  (aiosmtpd calls it by this name)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("busy@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def receiver(port: int, to: str = "duty@example.cn") -> dict[str, object]:
    return {
        "type": "email",
        "name": "mail",
        "host": "127.0.0.1",
        "port": port,
        "from_addr": "peakwatch@example.cn",
        "to": [to],
    }


@pytest.mark.integration
async def test_mail_arrives_with_text_and_html(
    make_service: ServiceFactory, clock: Clock, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    service = await make_service(one_route(receiver(port)))
    await fire(service, clock, row("SF-SZ-01", "red", carrier="SF", province="广东"))
    [message] = mailbox.messages
    assert message["Subject"] == "【红色(I级)】触发 · 爆仓风险 · SF-SZ-01"
    assert message["To"] == "duty@example.cn"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "利用率 91.0%" in text.get_content()
    assert "border-left:6px solid #f5222d" in html.get_content()
    assert "https://peakwatch.example/v1/alerts/" in html.get_content()


@pytest.mark.integration
@pytest.mark.parametrize(("mailbox_name", "retryable"), [("nobody", False), ("busy", True)])
async def test_refusals_say_whether_to_retry(
    smtp: tuple[Mailbox, int], mailbox_name: str, retryable: bool
) -> None:
    _, port = smtp
    config = EmailReceiver.model_validate(receiver(port, to=f"{mailbox_name}@example.cn"))
    with pytest.raises(NotifyError) as raised:
        await EmailNotifier(config, renderer=renderer()).notify(single(item(1, alert())))
    assert raised.value.retryable is retryable


async def test_server_down_is_retryable() -> None:
    config = EmailReceiver.model_validate(receiver(free_port()))
    with pytest.raises(NotifyError) as raised:
        await EmailNotifier(config, renderer=renderer()).notify(single(item(1, alert())))
    assert raised.value.retryable
