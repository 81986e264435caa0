"""Province and network rules: ``province_congestion`` and ``network_paralysis`` (全网瘫痪风险).

Evaluated from a hub-state frame alone, by exactly one replica (see docs/architecture.md).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import polars as pl

from core.config import RiskConfig
from core.levels import LEVEL_RANK
from core.rollups import province_and_national_rollups
from core.signals import SIGNAL_SCHEMA, empty_signals
from core.summaries import LEVEL_ZH


def _worst(levels: list[str]) -> str:
    return max(levels, key=lambda level: LEVEL_RANK[level], default="none")


def network_level(national: dict[str, Any], config: RiskConfig) -> tuple[str, list[str]]:
    """The network level and the reasons (English, short) behind it."""
    levels: list[str] = []
    reasons: list[str] = []
    share = national["key_nodes_orange_capacity_ratio"]
    for level in ("yellow", "orange", "red"):
        if level in config.network_key_share and share >= config.network_key_share[level]:
            levels.append(level)
    if levels:
        reasons.append("key_nodes_orange")
    ratio = national["departure_arrival_ratio"]
    if ratio is not None and ratio < config.network_flow_ratio:
        levels.append("orange")
        reasons.append("departures_lag_arrivals")
    if national["key_nodes_silent_ratio"] >= config.network_silent_key_share:
        levels.append("yellow")
        reasons.append("key_nodes_silent")
    return _worst(levels), reasons


def _row(
    rule: str,
    scope: str,
    subject: str,
    level: str,
    at: datetime,
    zh: str,
    en: str,
    values: dict[str, Any],
) -> dict[str, Any]:
    return {
        "rule": rule,
        "scope": scope,
        "subject": subject,
        "level": level,
        "hub_id": None,
        "carrier": None,
        "province": subject if scope == "province" else None,
        "summary": zh,
        "summary_en": en,
        "values": json.dumps(values, ensure_ascii=False),
        "at": at,
    }


def network_signals(hub_states: pl.DataFrame, *, at: datetime, config: RiskConfig) -> pl.DataFrame:
    """``province_congestion`` per province and ``network_paralysis`` for CN (``SIGNAL_SCHEMA``)."""
    heard = hub_states.filter(pl.col("last_event_at").is_not_null())
    if heard.height == 0:
        return empty_signals()
    rows: list[dict[str, Any]] = []
    provinces, national = province_and_national_rollups(heard)
    for province in provinces.iter_rows(named=True):
        share = province["orange_capacity_ratio"]
        level = (
            "red"
            if share >= config.province_red_share
            else "orange"
            if share >= config.province_orange_share
            else None
        )
        if level is None:
            continue
        percent = round(share * 100)
        rows.append(
            _row(
                "province_congestion",
                "province",
                province["province"],
                level,
                at,
                f"{province['province']} 省内拥堵{LEVEL_ZH[level]}："
                f"按容量计 {percent}% 的转运中心处于橙色及以上爆仓风险",
                f"{province['province']} province congestion {level.upper()}: "
                f"{percent}% of hub capacity at orange or worse",
                {
                    "orange_capacity_ratio": round(share, 4),
                    "hubs": province["hubs"],
                    "hubs_orange": province["hubs_orange"],
                    "hubs_red": province["hubs_red"],
                },
            )
        )
    level, reasons = network_level(national, config)
    if level != "none":
        key_share = round(national["key_nodes_orange_capacity_ratio"] * 100)
        ratio = national["departure_arrival_ratio"]
        ratio_text = "—" if ratio is None else f"{ratio:.2f}"
        silent = round(national["key_nodes_silent_ratio"] * 100)
        rows.append(
            _row(
                "network_paralysis",
                "network",
                "CN",
                level,
                at,
                f"全网瘫痪风险{LEVEL_ZH[level]}：重要节点 {key_share}% (按容量) 处于橙色及以上，"
                f"近30分钟发运/到件比 {ratio_text}，{silent}% 重要节点数据中断",
                f"Network paralysis risk {level.upper()}: "
                f"{key_share}% of key-node capacity at orange or worse, "
                f"30-min departures/arrivals {ratio_text}, {silent}% of key nodes silent",
                {
                    "key_nodes_orange_capacity_ratio": round(
                        national["key_nodes_orange_capacity_ratio"], 4
                    ),
                    "departure_arrival_ratio": None if ratio is None else round(ratio, 4),
                    "key_nodes_silent_ratio": round(national["key_nodes_silent_ratio"], 4),
                    "reasons": reasons,
                },
            )
        )
    if not rows:
        return empty_signals()
    return pl.DataFrame(rows, schema=SIGNAL_SCHEMA)
