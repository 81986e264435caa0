"""Delivery of a daily report to each kind of receiver, against local servers that check what
the real ones check (tests/alerts/notify/receiver.py) and a real local SMTP server: chat robots
get the digest with the link, signed; e-mail carries the printable report as its HTML."""

from __future__ import annotations

import email
import email.policy
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from pydantic import TypeAdapter

from alerts.config import Receiver
from alerts.notify.base import NotifyError
from app.reports.send import send_report
from tests.alerts.notify.receiver import RobotReceiver
from tests.app.test_report_schedule import sample_report
from tests.support.postgres import free_port

LINK = "https://pw.example/v1/reports/daily?date=2026-11-11&format=html"


def _receiver(config: dict[str, Any]) -> Receiver:
    adapter: TypeAdapter[Receiver] = TypeAdapter(Receiver)
    return adapter.validate_python(config)


@pytest.fixture
def robots() -> Iterator[RobotReceiver]:
    receiver = RobotReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


def _robot_configs(robots: RobotReceiver) -> dict[str, dict[str, Any]]:
    return {
        "dingtalk": {
            "type": "dingtalk",
            "name": "ding",
            "url": f"{robots.url}/robot/send?access_token=t",
            "secret": robots.dingtalk_secret,
        },
        "wecom": {
            "type": "wecom",
            "name": "wecom",
            "url": f"{robots.url}/cgi-bin/webhook/send?key=k",
        },
        "feishu": {
            "type": "feishu",
            "name": "feishu",
            "url": f"{robots.url}/open-apis/bot/v2/hook/tok",
            "secret": robots.feishu_secret,
        },
    }


@pytest.mark.parametrize("kind", ["dingtalk", "wecom", "feishu"])
async def test_a_chat_robot_takes_the_digest_with_the_link(
    robots: RobotReceiver, client: httpx.AsyncClient, kind: str
) -> None:
    receiver = _receiver(_robot_configs(robots)[kind])
    await send_report(receiver, sample_report(), link=LINK, language="zh", client=client)
    [message] = robots.accepted()
    body = message.body.decode()
    assert "一日一报 · 全国 · 2026-11-11" in body
    assert "进港 1,234,567 件" in body
    assert LINK in body


async def test_a_bad_signature_is_refused_for_good(
    robots: RobotReceiver, client: httpx.AsyncClient
) -> None:
    config = _robot_configs(robots)["dingtalk"] | {"secret": "SECwrong"}
    with pytest.raises(NotifyError) as refused:
        await send_report(
            _receiver(config), sample_report(), link=LINK, language="zh", client=client
        )
    assert not refused.value.retryable


@dataclass
class Mailbox:
    """Keeps every message the local SMTP server is given."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted"


async def test_an_e_mail_carries_the_printable_report(client: httpx.AsyncClient) -> None:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        receiver = _receiver(
            {
                "type": "email",
                "name": "mail",
                "host": "127.0.0.1",
                "port": port,
                "from_addr": "peakwatch@example.cn",
                "to": ["regulator@example.cn"],
            }
        )
        await send_report(receiver, sample_report(), link=LINK, language="zh", client=client)
    finally:
        controller.stop()
    [message] = mailbox.messages
    assert message["Subject"] == "一日一报 · 全国 · 2026-11-11"
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    assert html is not None
    assert text is not None
    assert "<h1>全国邮政快递业务量监测日报</h1>" in html.get_content()
    assert LINK in text.get_content()
