"""The words of alert messages, in Chinese and English, and how numbers are written.

Kept apart from ``render.py`` so a translator edits one table, not the layout code. Rule, scope
and level names, value labels and units are ``core.vocabulary``'s: nothing here names them again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alerts.notify.base import NotificationItem
from core import vocabulary
from core.levels import LEVEL_RANK
from core.vocabulary import Lang

_TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "level": "级别",
        "subject": "对象",
        "summary": "摘要",
        "numbers": "数据",
        "started": "开始时间",
        "resolved": "恢复时间",
        "acked": "已确认",
        "dashboard": "查看看板",
        "ack": "确认告警",
        "digest_title": "告警汇总 {count} 条",
        "digest_network": "全网瘫痪风险告警生效中，各枢纽告警合并为本条汇总发送。",
        "digest_rate_limit": "机器人发送频率已达上限，告警合并为本条汇总发送。",
        "more": "…另有 {count} 条，请查看看板",
    },
    "en": {
        "level": "Level",
        "subject": "Subject",
        "summary": "Summary",
        "numbers": "Numbers",
        "started": "Started",
        "resolved": "Resolved",
        "acked": "Acknowledged by",
        "dashboard": "Dashboard",
        "ack": "Acknowledge",
        "digest_title": "{count} alerts",
        "digest_network": "Network paralysis is firing: hub alerts are merged into this digest.",
        "digest_rate_limit": "The robot's rate limit is reached: alerts merged into this digest.",
        "more": "…and {count} more on the dashboard",
    },
}

_KINDS: dict[str, dict[str, str]] = {
    "zh": {
        "firing": "触发",
        "resolved": "已恢复",
        "escalation": "升级通知(未确认)",
        "reminder": "仍在告警",
        "reminder_for": "仍在告警(已持续 {duration})",
        "up": "升级",
        "down": "降级",
    },
    "en": {
        "firing": "FIRING",
        "resolved": "RESOLVED",
        "escalation": "ESCALATED (not acknowledged)",
        "reminder": "STILL FIRING",
        "reminder_for": "STILL FIRING (for {duration})",
        "up": "RAISED",
        "down": "LOWERED",
    },
}

LEVEL_EMOJI: dict[str, str] = {
    "unknown": "⬜",
    "none": "🟩",
    "blue": "🟦",
    "yellow": "🟨",
    "orange": "🟧",
    "red": "🟥",
}


def text(key: str, lang: Lang) -> str:
    """A fixed phrase of the message layout."""
    return _TEXTS[lang][key]


def level_name(level: str, lang: Lang) -> str:
    """``橙色(II级)`` / ``Orange (II)``."""
    return vocabulary.level_name(level, lang)


def rule_name(rule: str, lang: Lang) -> str:
    """``爆仓风险`` / ``Hub overflow risk``; unknown rules as their id."""
    return vocabulary.rule_name(rule, lang)


def scope_name(scope: str, lang: Lang) -> str:
    """``转运中心`` / ``Hub``: what the alert is about, before its subject."""
    return vocabulary.scope_name(scope, lang)


def kind_label(item: NotificationItem, lang: Lang) -> str:
    """``触发``, ``已恢复``, ``升级 黄色(III级)→橙色(II级)``, ``升级通知(未确认)``,
    ``仍在告警(已持续 2 小时 5 分钟)``…"""
    kinds = _KINDS[lang]
    if item.kind == "reminder" and item.firing_for_s is not None:
        return kinds["reminder_for"].format(duration=format_duration(item.firing_for_s, lang))
    if item.kind != "level_changed" or item.previous_level is None:
        return kinds.get(item.kind, item.kind)
    up = LEVEL_RANK[item.alert.level] > LEVEL_RANK[item.previous_level]
    arrow = f"{level_name(item.previous_level, lang)}→{level_name(item.alert.level, lang)}"
    return f"{kinds['up' if up else 'down']} {arrow}"


def format_duration(seconds: float, lang: Lang) -> str:
    """``2 小时 5 分钟`` / ``2 h 5 min``, rounded to the minute (at least 1)."""
    return vocabulary.format_duration(max(60.0, seconds), lang)


def format_values(values: Mapping[str, Any], lang: Lang, *, rule: str = "") -> str:
    """``中断时长 25 分钟 · 积压 3,000 件 · …``: the numbers that explain ``rule``, in its order,
    each with its label and unit (``core.vocabulary``); a key it does not know is not shown."""
    return " · ".join(vocabulary.format_values(rule, values, lang))
