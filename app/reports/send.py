"""Deliver a daily report to one receiver: an e-mail whose HTML body is the printable report,
or, for chat robots and webhooks, a short digest with the link to the full report.

    await send_report(receiver, report, link=…, language="zh", client=…)   # raises NotifyError

The digest (``digest``) says what a regulator reads first: the day's arrivals and departures,
the backlog at 24:00, the peak hour, how many alerts and incidents. Signing and the robots'
answers are those of ``alerts.notify`` (the same receivers, the same rules).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import httpx

from alerts.config import (
    DingTalkReceiver,
    EmailReceiver,
    FeishuReceiver,
    Language,
    Receiver,
    WebhookReceiver,
    WeComReceiver,
)
from alerts.notify import dingtalk, feishu, webhook, wecom
from alerts.notify.base import NotifyError, check_robot_reply, post
from alerts.notify.email import _send as email_send  # the alerts' SMTP session, as it is
from app.reports.model import DailyReport
from app.reports.page import render_html


@dataclass(frozen=True)
class Digest:
    """A report in a few lines: ``title``, ``lines`` and the ``link`` to the full report."""

    title: str
    lines: tuple[str, ...]
    link: str

    def markdown(self) -> str:
        """Title, lines, link, as chat markdown."""
        body = "\n\n".join(f"- {line}" for line in self.lines)
        return f"### {self.title}\n\n{body}\n\n[{self.link}]({self.link})"

    def plain(self) -> str:
        """The same as plain text."""
        return "\n".join([self.title, *self.lines, self.link])


def digest(report: DailyReport, *, link: str, language: Language = "zh") -> Digest:
    """The report's digest in ``language`` (times are Beijing time)."""
    day = report.date.isoformat()
    peak = report.peak_hour or "—"
    if language == "en":
        where = report.province or "nation"
        return Digest(
            f"Daily report · {where} · {day}",
            (
                f"Arrivals {report.arrivals_total:,} · departures {report.departures_total:,}",
                f"Backlog at 24:00 {report.backlog_at_end:,} (highest {report.backlog_max:,})",
                f"Peak hour {peak} (Beijing time)",
                f"Alerts {len(report.alerts)} · incidents {len(report.incidents)}",
            ),
            link,
        )
    where = report.province or "全国"
    return Digest(
        f"一日一报 · {where} · {day}",
        (
            f"进港 {report.arrivals_total:,} 件 · 出港 {report.departures_total:,} 件",
            f"24时积压 {report.backlog_at_end:,} 件（最高 {report.backlog_max:,} 件）",
            f"峰值时段 {peak}（北京时间）",
            f"预警 {len(report.alerts)} 条 · 突发事件 {len(report.incidents)} 起",
        ),
        link,
    )


def report_id(report: DailyReport, receiver: str) -> str:
    """The same on every retry of one report to one receiver: receivers can drop duplicates."""
    key = f"daily:{report.date.isoformat()}:{report.province or ''}:{receiver}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


async def send_report(
    receiver: Receiver,
    report: DailyReport,
    *,
    link: str,
    language: Language,
    client: httpx.AsyncClient,
) -> None:
    """Deliver ``report`` to ``receiver``, or raise ``NotifyError``."""
    short = digest(report, link=link, language=language)
    if isinstance(receiver, EmailReceiver):
        message = _email(receiver, report, short)
        await asyncio.to_thread(_smtp, receiver, message)
        return
    if isinstance(receiver, WebhookReceiver):
        await _webhook(receiver, report, short, client)
        return
    url, payload, code_field, retry = _robot(receiver, short)
    response = await post(client, url, json_body=payload, timeout_s=receiver.timeout_s)
    check_robot_reply(response, code_field=code_field, retry_codes=retry)


def _robot(receiver: Receiver, short: Digest) -> tuple[str, dict[str, Any], str, set[int]]:
    """URL, body, the answer's code field and its retryable codes for a chat robot."""
    if isinstance(receiver, DingTalkReceiver):
        url = receiver.url
        if receiver.secret is not None:
            secret = receiver.secret.get_secret_value()
            url = dingtalk.signed_url(url, secret, int(time.time() * 1000))
        body = {"msgtype": "markdown", "markdown": {"title": short.title, "text": short.markdown()}}
        return url, body, "errcode", dingtalk.RETRY_CODES
    if isinstance(receiver, WeComReceiver):
        body = {"msgtype": "markdown", "markdown": {"content": short.markdown()}}
        return receiver.url, body, "errcode", wecom.RETRY_CODES
    if isinstance(receiver, FeishuReceiver):
        return receiver.url, _card(receiver, short), "code", feishu.RETRY_CODES
    raise NotifyError(f"receiver {receiver.name!r} cannot take a daily report", retryable=False)


def _card(receiver: FeishuReceiver, short: Digest) -> dict[str, Any]:
    lines = "\n".join(f"- {line}" for line in short.lines)
    body: dict[str, Any] = {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": short.title}, "template": "blue"},
            "elements": [
                {"tag": "div", "text": {"tag": "lark_md", "content": lines}},
                {
                    "tag": "div",
                    "text": {"tag": "lark_md", "content": f"[{short.link}]({short.link})"},
                },
            ],
        },
    }
    if receiver.secret is not None:
        timestamp_s = int(time.time())
        body["timestamp"] = str(timestamp_s)
        body["sign"] = feishu.sign(receiver.secret.get_secret_value(), timestamp_s)
    return body


async def _webhook(
    receiver: WebhookReceiver, report: DailyReport, short: Digest, client: httpx.AsyncClient
) -> None:
    notification_id = report_id(report, receiver.name)
    document = {
        "version": webhook.BODY_VERSION,
        "kind": "daily_report",
        "notification_id": notification_id,
        "receiver": receiver.name,
        "date": report.date.isoformat(),
        "province": report.province,
        "title": short.title,
        "text": short.plain(),
        "link": short.link,
        "arrivals_total": report.arrivals_total,
        "departures_total": report.departures_total,
        "backlog_at_end": report.backlog_at_end,
        "peak_hour": report.peak_hour,
        "alerts": len(report.alerts),
        "incidents": len(report.incidents),
    }
    content = json.dumps(document, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", webhook.ID_HEADER: notification_id}
    if receiver.secret is not None:
        timestamp = str(int(time.time()))
        secret = receiver.secret.get_secret_value().encode()
        headers[webhook.TIMESTAMP_HEADER] = timestamp
        headers[webhook.SIGNATURE_HEADER] = webhook.signature(secret, timestamp, content)
    await post(client, receiver.url, content=content, headers=headers, timeout_s=receiver.timeout_s)


def _email(receiver: EmailReceiver, report: DailyReport, short: Digest) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = short.title
    message["From"] = receiver.from_addr
    message["To"] = ", ".join(receiver.to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(
        idstring=report_id(report, receiver.name), domain="peakwatch"
    )
    message.set_content(short.plain())
    message.add_alternative(render_html(report), subtype="html")
    return message


def _smtp(receiver: EmailReceiver, message: EmailMessage) -> None:
    """Send over SMTP as ``alerts.notify.email`` does; every failure is a ``NotifyError``."""
    try:
        email_send(receiver, message)
    except smtplib.SMTPResponseException as error:
        raise NotifyError(
            f"SMTP {error.smtp_code}: {error.smtp_error!r}", retryable=error.smtp_code < 500
        ) from error
    except (OSError, smtplib.SMTPException) as error:
        raise NotifyError(f"{type(error).__name__}: {error}", retryable=True) from error
