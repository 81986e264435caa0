"""The words of alert messages, in Chinese and English, and how numbers are written.

Kept apart from ``render.py`` so a translator edits one table, not the layout code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from alerts.notify.base import NotificationItem
from core.levels import LEVEL_NAMES_ZH, LEVEL_RANK

Lang = Literal["zh", "en"]

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

_RULES: dict[str, tuple[str, str]] = {
    "hub_overflow": ("爆仓风险", "Hub overflow risk"),
    "hub_sorting_saturation": ("分拣饱和", "Sorting saturation"),
    "hub_silent": ("数据中断", "Hub silent"),
    "province_congestion": ("省内拥堵", "Province congestion"),
    "network_paralysis": ("全网瘫痪风险", "Network paralysis risk"),
    "network_data_outage": ("全网数据中断", "Network data outage"),
}

_LEVELS_EN = {
    "blue": "Blue (IV)",
    "yellow": "Yellow (III)",
    "orange": "Orange (II)",
    "red": "Red (I)",
}

LEVEL_EMOJI: dict[str, str] = {
    "unknown": "⬜",
    "none": "🟩",
    "blue": "🟦",
    "yellow": "🟨",
    "orange": "🟧",
    "red": "🟥",
}

_VALUE_NAMES: dict[str, tuple[str, str]] = {
    "utilization": ("利用率", "utilisation"),
    "utilization_ratio": ("利用率", "utilisation"),
    "backlog": ("积压", "backlog"),
    "backlog_parcels": ("积压", "backlog"),
    "storage_capacity": ("库容", "storage capacity"),
    "time_to_overflow_s": ("预计爆仓", "time to overflow"),
    "arrival_rate_per_min": ("到件速率", "arrivals"),
    "departure_rate_per_min": ("发件速率", "departures"),
    "sort_capacity_per_min": ("分拣能力", "sorting capacity"),
    "silent_s": ("中断时长", "silent for"),
    "orange_capacity_ratio": ("橙色以上库容占比", "capacity share at orange+"),
    "key_nodes_orange_capacity_ratio": ("重点节点橙色以上占比", "key nodes at orange+"),
    "key_nodes_silent_ratio": ("重点节点中断占比", "key nodes silent"),
    "departure_arrival_ratio": ("发到比", "departures/arrivals"),
}
MAX_VALUES_SHOWN = 8


def text(key: str, lang: Lang) -> str:
    """A fixed phrase of the message layout."""
    return _TEXTS[lang][key]


def level_name(level: str, lang: Lang) -> str:
    """``橙色(II级)`` / ``Orange (II)``."""
    return LEVEL_NAMES_ZH.get(level, level) if lang == "zh" else _LEVELS_EN.get(level, level)


def rule_name(rule: str, lang: Lang) -> str:
    """``爆仓风险`` / ``Hub overflow risk``; unknown rules as their id."""
    names = _RULES.get(rule)
    return rule if names is None else names[0 if lang == "zh" else 1]


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
    hours, minutes = divmod(max(1, round(seconds / 60)), 60)
    zh = lang == "zh"
    parts = [f"{hours} 小时" if zh else f"{hours} h"] if hours else []
    if minutes or not hours:
        parts.append(f"{minutes} 分钟" if zh else f"{minutes} min")
    return " ".join(parts)


def format_values(values: Mapping[str, Any], lang: Lang) -> str:
    """``利用率 93.0% · 积压 12,345 · 预计爆仓 42 分钟`` (at most eight numbers)."""
    parts = []
    for key, value in list(values.items())[:MAX_VALUES_SHOWN]:
        names = _VALUE_NAMES.get(key)
        name = key if names is None else names[0 if lang == "zh" else 1]
        parts.append(f"{name} {format_value(key, value, lang)}")
    return " · ".join(parts)


def format_value(key: str, value: Any, lang: Lang) -> str:
    """One number, in the unit its key names (``_ratio``/utilisation → %, ``_s`` → minutes)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if not isinstance(value, int | float):
        return str(value)
    if key.endswith("_ratio") or key == "utilization":
        return f"{value * 100:.1f}%"
    if key.endswith("_s"):
        if abs(value) >= 60:
            return f"{value / 60:.0f} 分钟" if lang == "zh" else f"{value / 60:.0f} min"
        return f"{value:.0f} 秒" if lang == "zh" else f"{value:.0f} s"
    if key.endswith("_per_min"):
        return f"{value:,.0f}/分钟" if lang == "zh" else f"{value:,.0f}/min"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
