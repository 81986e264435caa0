"""Province and network rules: ``province_congestion``, ``network_paralysis`` (全网瘫痪风险)
and ``network_data_outage`` (全网数据中断).

Evaluated from per-province sums of hub states (``heard_sums``), by exactly one replica; the
sums of each partition come from the replica that holds it, for the same step, so several
replicas decide what one would (see docs/architecture.md).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import polars as pl

from core.config import RiskConfig
from core.levels import LEVEL_RANK
from core.rollups import combine_sums, province_sums, rollups_from_sums
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


def heard_sums(hub_states: pl.DataFrame, *keys: str) -> pl.DataFrame:
    """The province sums of the hubs that have reported (what the province and network rules
    read), by province and ``keys``."""
    return province_sums(hub_states.filter(pl.col("last_event_at").is_not_null()), *keys)


def network_signals(hub_states: pl.DataFrame, *, at: datetime, config: RiskConfig) -> pl.DataFrame:
    """``province_congestion`` per province, ``network_paralysis`` and ``network_data_outage``
    for CN (``SIGNAL_SCHEMA``), from every hub's state."""
    return network_signals_from_sums(heard_sums(hub_states), at=at, config=config)


def network_signals_from_sums(
    sums: pl.DataFrame, *, at: datetime, config: RiskConfig
) -> pl.DataFrame:
    """``network_signals`` from ``heard_sums`` — of the whole network, or of its parts (the
    partitions of several replicas) stacked: they are added up first."""
    if sums.height == 0:
        return empty_signals()
    combined = combine_sums(sums.drop("partition", strict=False)).collect()
    if int(combined["hubs"].sum()) == 0:
        return empty_signals()
    rows: list[dict[str, Any]] = []
    provinces, national = rollups_from_sums(combined)
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
    rows.extend(_outage(national, at, config))
    if not rows:
        return empty_signals()
    return pl.DataFrame(rows, schema=SIGNAL_SCHEMA)


def _outage(national: dict[str, Any], at: datetime, config: RiskConfig) -> list[dict[str, Any]]:
    """``network_data_outage`` (全网数据中断): a share of the hubs that were reporting has gone
    silent — the feed itself is failing, which must never look like calm."""
    share = national["hubs_silent_ratio"]
    level = (
        "red"
        if share >= config.network_outage_share["red"]
        else "orange"
        if share >= config.network_outage_share["orange"]
        else None
    )
    if level is None:
        return []
    percent = round(share * 100)
    silent = round(share * national["hubs_reporting"])
    return [
        _row(
            "network_data_outage",
            "network",
            "CN",
            level,
            at,
            f"全网数据中断{LEVEL_ZH[level]}：{national['hubs_reporting']} 个曾上报的转运中心中"
            f" {silent} 个 ({percent}%) 已停止上报，监测数据不可信",
            f"Network data outage {level.upper()}: {silent} of {national['hubs_reporting']} "
            f"reporting hubs ({percent}%) have gone silent; the picture cannot be trusted",
            {
                "hubs_silent_ratio": round(share, 4),
                "hubs_silent": silent,
                "hubs_reporting": national["hubs_reporting"],
            },
        )
    ]
