"""Warning levels: China's four colours, plus the two states that are not a warning.

Ordered: ``unknown`` (nobody has heard from the hub) and ``none`` (heard, nothing wrong) carry no
warning; then 蓝 blue (IV) < 黄 yellow (III) < 橙 orange (II) < 红 red (I).
"""

from __future__ import annotations

from typing import Literal

import polars as pl

from core.vocabulary import LEVELS as VOCABULARY

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

LEVEL_NAMES_ZH: dict[str, str] = {level: term.name("zh") for level, term in VOCABULARY.items()}
"""``橙色(II级)``…, from the vocabulary (``core.vocabulary.LEVELS``)."""

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
