"""Warning levels: China's four colours, plus the two states that are not a warning.

Ordered: ``unknown`` (nobody has heard from the hub) and ``none`` (heard, nothing wrong) carry no
warning; then 蓝 blue (IV) < 黄 yellow (III) < 橙 orange (II) < 红 red (I).
"""

from __future__ import annotations

from typing import Literal

import polars as pl

Level = Literal["unknown", "none", "blue", "yellow", "orange", "red"]
WarningLevel = Literal["blue", "yellow", "orange", "red"]

LEVELS: tuple[Level, ...] = ("unknown", "none", "blue", "yellow", "orange", "red")
WARNING_LEVELS: tuple[WarningLevel, ...] = ("blue", "yellow", "orange", "red")
LEVEL_DTYPE = pl.Enum(list(LEVELS))
"""Enum dtype whose physical order is the severity order, so ``max()`` is the worst level."""

LEVEL_RANK: dict[str, int] = {
    "unknown": -1,
    "none": 0,
    "blue": 1,
    "yellow": 2,
    "orange": 3,
    "red": 4,
}
"""Numeric severity, as exported in metrics (``peakwatch_hub_level`` etc.)."""

LEVEL_NAMES_ZH: dict[str, str] = {
    "unknown": "未知",
    "none": "正常",
    "blue": "蓝色(IV级)",
    "yellow": "黄色(III级)",
    "orange": "橙色(II级)",
    "red": "红色(I级)",
}

LEVEL_COLOURS: dict[str, str] = {
    "unknown": "#8c8c8c",
    "none": "#52c41a",
    "blue": "#1677ff",
    "yellow": "#fadb14",
    "orange": "#fa8c16",
    "red": "#f5222d",
}


def at_least(level: str, floor: str) -> bool:
    """True when ``level`` is as severe as ``floor`` or more."""
    return LEVEL_RANK[level] >= LEVEL_RANK[floor]
