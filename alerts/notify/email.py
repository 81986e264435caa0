"""SMTP e-mail: a text part and an HTML part, subject = the message title.

Sent with the standard library's ``smtplib`` in a worker thread. ``tls`` picks plain SMTP,
STARTTLS, or implicit TLS (SMTPS). A 4xx reply, a refused connection or a timeout is retryable;
a 5xx reply (unknown mailbox, authentication refused) is not.
"""

from __future__ import annotations

import asyncio
import html
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from alerts.config import EmailReceiver
from alerts.notify.base import Notification, NotifyError
from alerts.notify.render import Renderer
from alerts.notify.texts import LEVEL_EMOJI, format_values, kind_label, rule_name, text
from core.levels import LEVEL_COLOURS, LEVEL_RANK


def build_message(
    config: EmailReceiver, notification: Notification, renderer: Renderer
) -> EmailMessage:
    """The MIME message: text part, then an HTML alternative."""
    message = EmailMessage()
    message["Subject"] = renderer.title(notification)
    message["From"] = config.from_addr
    on_duty = [p.email for p in notification.people_on_duty() if p.email]
    message["To"] = ", ".join(dict.fromkeys([*config.to, *on_duty]))  # and who is on duty
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=notification.id, domain="peakwatch")
    message["X-Peakwatch-Notification-Id"] = notification.id
    message.set_content(renderer.plain_text(notification))
    message.add_alternative(html_body(notification, renderer), subtype="html")
    return message


def html_body(notification: Notification, renderer: Renderer) -> str:
    """A table, one row per alert, each with a bar in its level's colour and its links."""
    lang = renderer.language
    rows = []
    for item in sorted(notification.shown_items(), key=lambda i: -LEVEL_RANK[i.alert.level]):
        alert = item.alert
        summary = alert.summary if lang == "zh" else alert.summary_en
        cells = [
            f"{LEVEL_EMOJI[alert.level]} {html.escape(kind_label(item, lang))}",
            html.escape(f"{rule_name(alert.rule, lang)} · {alert.subject}"),
            html.escape(summary),
            html.escape(format_values(alert.values(), lang, rule=alert.rule)),
            _link(renderer.links.dashboard(alert), text("dashboard", lang))
            + " · "
            + _link(renderer.links.ack(alert), text("ack", lang)),
        ]
        colour = LEVEL_COLOURS[alert.level]
        row = "".join(f"<td>{cell}</td>" for cell in cells)
        rows.append(f'<tr style="border-left:6px solid {colour}">{row}</tr>')
    title = html.escape(renderer.title(notification))
    return (
        f"<html><body><h3>{title}</h3>"
        f'<table cellpadding="6" style="border-collapse:collapse">{"".join(rows)}</table>'
        "</body></html>"
    )


def _link(url: str, label: str) -> str:
    return f'<a href="{html.escape(url)}">{html.escape(label)}</a>'


def _send(config: EmailReceiver, message: EmailMessage) -> None:
    password = config.password.get_secret_value() if config.password else None
    smtp_class = smtplib.SMTP_SSL if config.tls == "implicit" else smtplib.SMTP
    with smtp_class(config.host, config.port, timeout=config.timeout_s) as smtp:
        if config.tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if config.username and password:
            smtp.login(config.username, password)
        refused = smtp.send_message(message)
    if refused:
        raise NotifyError(f"recipients refused: {sorted(refused)}", retryable=False)


class EmailNotifier:
    """Sends one e-mail per message."""

    def __init__(self, config: EmailReceiver, *, renderer: Renderer) -> None:
        self._config, self._renderer = config, renderer

    @property
    def name(self) -> str:
        """The receiver's name."""
        return self._config.name

    async def notify(self, notification: Notification) -> None:
        """Send the e-mail in a worker thread; classify SMTP errors by reply code."""
        message = build_message(self._config, notification, self._renderer)
        try:
            await asyncio.to_thread(_send, self._config, message)
        except smtplib.SMTPResponseException as error:
            raise NotifyError(
                f"SMTP {error.smtp_code}: {error.smtp_error!r}", retryable=error.smtp_code < 500
            ) from error
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise NotifyError(
                f"recipients refused: {codes}", retryable=all(c < 500 for c in codes)
            ) from error
        except (OSError, smtplib.SMTPException) as error:
            raise NotifyError(f"{type(error).__name__}: {error}", retryable=True) from error

    async def close(self) -> None:
        """Nothing to release: one connection per message."""
