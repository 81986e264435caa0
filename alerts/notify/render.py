"""Message text in Chinese (default) or English: titles, markdown bodies, digests, links.

Every message shows the level in its colour, the subject, the summary with the numbers behind it,
and two links: the dashboard and the one-click acknowledge page. Markdown flavours differ only in
how colour is written: DingTalk and Feishu take a font colour, WeCom only three named colours,
e-mail gets HTML from ``alerts.notify.email``. Digests list the worst alerts first and say how many
more there are when a robot's size limit cuts the list.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from alerts.measures_text import digest_suffix, message_lines
from alerts.model import Alert
from alerts.notify.base import Notification, NotificationItem
from alerts.notify.texts import (
    LEVEL_EMOJI,
    format_values,
    kind_label,
    level_name,
    rule_name,
    scope_name,
    text,
)
from core.levels import LEVEL_COLOURS, LEVEL_RANK

Flavour = Literal["dingtalk", "wecom", "feishu", "plain"]
BEIJING = timezone(timedelta(hours=8), "UTC+8")
_WECOM_COLOUR = {"red": "warning", "orange": "warning", "yellow": "comment", "blue": "info"}
_FEISHU_COLOUR = {"red": "red", "orange": "red", "yellow": "grey", "blue": "green"}


def local_time(moment: datetime | None) -> str:
    """``2025-11-11 10:00:00`` in Beijing time (UTC+8, no daylight saving), or ``—``."""
    return "—" if moment is None else moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def ack_token(secret: bytes, alert_id: str) -> str:
    """The token of an alert's acknowledge link: HMAC-SHA256(secret, ``ack:<id>``), 32 hex."""
    return hmac.new(secret, f"ack:{alert_id}".encode(), hashlib.sha256).hexdigest()[:32]


def ack_token_valid(secret: bytes, alert_id: str, token: str) -> bool:
    """Constant-time check of an acknowledge-link token."""
    return hmac.compare_digest(ack_token(secret, alert_id), token)


@dataclass(frozen=True)
class Links:
    """Builds the dashboard and acknowledge links of an alert."""

    public_url: str
    ack_secret: bytes
    dashboard_template: str | None = None

    def dashboard(self, alert: Alert) -> str:
        """The board (or a configured dashboard, e.g. Grafana) focused on the alert."""
        if self.dashboard_template is None:
            return f"{self.public_url.rstrip('/')}/?alert={alert.id}"
        fields = {"public_url": self.public_url.rstrip("/"), "alert_id": alert.id, **alert.labels()}
        return self.dashboard_template.format_map(_Blank(fields))

    def ack(self, alert: Alert) -> str:
        """The acknowledge page: a signed link that works without an API key."""
        base = f"{self.public_url.rstrip('/')}/v1/alerts/{alert.id}/ack-link"
        return f"{base}?token={ack_token(self.ack_secret, alert.id)}"


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Renderer:
    """Renders notifications in one language for one receiver."""

    language: Literal["zh", "en"]
    links: Links

    def title(self, notification: Notification) -> str:
        """One line: ``【橙色(II级)】触发 · 爆仓风险 · HUB-SH-01`` or a digest headline."""
        if notification.is_single:
            return self.item_title(notification.shown_items()[0])
        shown = notification.shown_items()
        counts = _level_counts(shown)
        summary = " · ".join(f"{level_name(lvl, self.language)} {n}" for lvl, n in counts)
        head = text("digest_title", self.language).format(count=len(shown))
        return f"{head}: {summary}"

    def item_title(self, item: NotificationItem) -> str:
        """``【level】kind · rule · subject``."""
        alert, lang = item.alert, self.language
        return (
            f"【{level_name(alert.level, lang)}】{kind_label(item, lang)} · "
            f"{rule_name(alert.rule, lang)} · {alert.subject}"
        )

    def markdown(self, notification: Notification, *, flavour: Flavour, max_bytes: int) -> str:
        """The body in a robot's markdown flavour, at most ``max_bytes`` of UTF-8."""
        if notification.is_single:
            return self.single_markdown(notification.shown_items()[0], flavour=flavour)
        return self.digest_markdown(notification, flavour=flavour, max_bytes=max_bytes)

    def single_markdown(self, item: NotificationItem, *, flavour: Flavour) -> str:
        """One alert: coloured level, subject, summary, numbers, times, links."""
        alert, lang = item.alert, self.language
        level = self.coloured(alert.level, level_name(alert.level, lang), flavour)
        lines = [
            f"### {self.coloured(alert.level, self.item_title(item), flavour)}",
            f"- **{text('level', lang)}**: {level}",
            f"- **{text('subject', lang)}**: {scope_name(alert.scope, lang)} {alert.subject}"
            f"{_labels_suffix(alert)}",
            f"- **{text('summary', lang)}**: {alert.summary if lang == 'zh' else alert.summary_en}",
        ]
        numbers = format_values(alert.values(), lang, rule=alert.rule)
        if numbers:
            lines.append(f"- **{text('numbers', lang)}**: {numbers}")
        lines.append(f"- **{text('started', lang)}**: {local_time(alert.started_at)} (UTC+8)")
        if alert.resolved_at is not None:
            lines.append(f"- **{text('resolved', lang)}**: {local_time(alert.resolved_at)} (UTC+8)")
        if alert.acked_by:
            lines.append(f"- **{text('acked', lang)}**: {alert.acked_by}")
        lines.extend(message_lines(item.mitigations, item.warnings, lang))
        lines.append("")
        lines.append(self.link_line(alert))
        return "\n".join(lines)

    def digest_markdown(
        self, notification: Notification, *, flavour: Flavour, max_bytes: int
    ) -> str:
        """A list of alerts, worst first, cut to ``max_bytes`` with a "N more" line."""
        lang = self.language
        head = [f"### {self.title(notification)}"]
        if notification.digest in ("network", "rate_limit"):
            head.append(f"> {text('digest_' + notification.digest, lang)}")
        head.append("")
        items = sorted(notification.shown_items(), key=lambda i: -LEVEL_RANK[i.alert.level])
        lines = [self.digest_line(item, flavour) for item in items]
        footer = f"\n[{text('dashboard', lang)}]({self.links.public_url.rstrip('/')}/)"
        return _fit(head, lines, footer, max_bytes=max_bytes, more=text("more", lang))

    def digest_line(self, item: NotificationItem, flavour: Flavour) -> str:
        """``- 🟧 触发 爆仓风险 HUB-1: summary [确认](…)``."""
        alert, lang = item.alert, self.language
        summary = alert.summary if lang == "zh" else alert.summary_en
        label = self.coloured(
            alert.level, f"{LEVEL_EMOJI[alert.level]} {kind_label(item, lang)}", flavour
        )
        measures = digest_suffix(item.mitigations, item.warnings, lang)
        return (
            f"- {label} {rule_name(alert.rule, lang)} {alert.subject}: {summary}{measures} "
            f"[{text('ack', lang)}]({self.links.ack(alert)})"
        )

    def link_line(self, alert: Alert) -> str:
        """``[查看看板](…) | [确认告警](…)``."""
        lang = self.language
        return (
            f"[{text('dashboard', lang)}]({self.links.dashboard(alert)}) | "
            f"[{text('ack', lang)}]({self.links.ack(alert)})"
        )

    def coloured(self, level: str, content: str, flavour: Flavour) -> str:
        """``content`` in the level's colour, as the flavour writes colour."""
        if flavour == "dingtalk":
            return f'<font color="{LEVEL_COLOURS[level]}">{content}</font>'
        if flavour == "wecom":
            return f'<font color="{_WECOM_COLOUR.get(level, "comment")}">{content}</font>'
        if flavour == "feishu":
            return f"<font color='{_FEISHU_COLOUR.get(level, 'grey')}'>{content}</font>"
        return content

    def plain_text(self, notification: Notification) -> str:
        """Uncoloured text (e-mail text part, webhook ``text``)."""
        return self.markdown(notification, flavour="plain", max_bytes=1_000_000)


def _labels_suffix(alert: Alert) -> str:
    parts = [v for k in ("carrier", "province") if (v := getattr(alert, k)) and v != alert.subject]
    return f" ({', '.join(parts)})" if parts else ""


def _level_counts(items: tuple[NotificationItem, ...]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item.alert.level] = counts.get(item.alert.level, 0) + 1
    return sorted(counts.items(), key=lambda pair: -LEVEL_RANK[pair[0]])


def _fit(head: list[str], lines: list[str], footer: str, *, max_bytes: int, more: str) -> str:
    """Join; past ``max_bytes``, keep the first lines that fit and say how many more there are."""
    full = "\n".join([*head, *lines]) + footer
    if len(full.encode("utf-8")) <= max_bytes:
        return full
    fixed = len("\n".join(head).encode("utf-8")) + len(footer.encode("utf-8"))
    budget = max_bytes - fixed - len(more.encode("utf-8")) - 16  # 16: room for the count
    shown, used = 0, 0
    for line in lines:
        used += len(line.encode("utf-8")) + 1
        if used > budget:
            break
        shown += 1
    return "\n".join([*head, *lines[:shown], more.format(count=len(lines) - shown)]) + footer
