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
from core.summaries import network_summary, outage_summary, province_summary


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
        values = {
            "orange_capacity_ratio": round(share, 4),
            "hubs": province["hubs"],
            "hubs_orange": province["hubs_orange"],
            "hubs_red": province["hubs_red"],
        }
        zh, en = province_summary(
            province["province"], level, {**values, "orange_capacity_ratio": share}
        )
        rows.append(
            _row("province_congestion", "province", province["province"], level, at, zh, en, values)
        )
    level, reasons = network_level(national, config)
    if level != "none":
        ratio = national["departure_arrival_ratio"]
        zh, en = network_summary(level, national)
        values = {
            "key_nodes_orange_capacity_ratio": round(
                national["key_nodes_orange_capacity_ratio"], 4
            ),
            "departure_arrival_ratio": None if ratio is None else round(ratio, 4),
            "key_nodes_silent_ratio": round(national["key_nodes_silent_ratio"], 4),
            "reasons": reasons,
        }
        rows.append(_row("network_paralysis", "network", "CN", level, at, zh, en, values))
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
    silent = round(share * national["hubs_reporting"])
    values = {
        "hubs_silent_ratio": round(share, 4),
        "hubs_silent": silent,
        "hubs_reporting": national["hubs_reporting"],
    }
    zh, en = outage_summary(level, {**values, "hubs_silent_ratio": share})
    return [_row("network_data_outage", "network", "CN", level, at, zh, en, values)]
