"""The boards' words for rules, levels and values, taken from core/vocabulary.py.

A panel that shows a value key, a rule's level or a count of hubs at a level is titled with the
vocabulary's own words, so Grafana says 预计爆仓 where the chat message and the board say it;
only the connecting words of a title (与, 各省, 走势) are written on the boards.

    value("backlog")                         积压
    value_in("backlog", "parcels")           积压(件)
    legend("backlog")                        积压 backlog    (a series: Chinese, then English)
    rule_level("province_congestion")        省内拥堵等级
    hubs_at_least("orange")                  橙色及以上枢纽数
"""

from __future__ import annotations

from core.vocabulary import LEVELS, RULES, UNITS, VALUES, Unit

LEVEL_WORD = "等级"
AT_LEAST = "及以上"


def value(key: str) -> str:
    """The value key's Chinese label."""
    return VALUES[key].label.zh


def value_in(key: str, unit: Unit) -> str:
    """The label with the unit the panel shows it in (flows are per hour on the boards)."""
    return f"{value(key)}({UNITS[unit].zh})"


def legend(key: str) -> str:
    """A series name in both languages, as the boards name their lines."""
    label = VALUES[key].label
    return f"{label.zh} {label.en}"


def rule_level(rule: str) -> str:
    """The title of a panel showing one rule's level."""
    return f"{RULES[rule].name.zh}{LEVEL_WORD}"


def hubs_at_least(level: str) -> str:
    """The title of a count of hubs at ``level`` or worse."""
    return f"{LEVELS[level].colour.zh}{AT_LEAST}{value('hubs')}"
