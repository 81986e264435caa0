"""Chinese and English summaries of signals, with the numbers that say why.

Hub summaries are Polars expressions (one call for all rows); the province and network ones are
one row each. Every rule name, level, label and unit word comes from ``core.vocabulary``.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from core.vocabulary import LEVELS, RULES, UNITS, VALUES

LEVEL_ZH = {level: term.colour.zh for level, term in LEVELS.items()}
"""``橙色``…: the colour word a summary puts after the rule name."""

_PER_MIN, _PARCELS = UNITS["per_min"], UNITS["parcels"]


def level_zh(column: str) -> pl.Expr:
    """The Chinese colour name of a level column."""
    return pl.col(column).cast(pl.String).replace(LEVEL_ZH)


def level_en(column: str) -> pl.Expr:
    """The upper-case English colour of a level column."""
    return pl.col(column).cast(pl.String).str.to_uppercase()


def _fmt(expr: pl.Expr, decimals: int = 0) -> pl.Expr:
    rounded = expr.round(decimals)
    if decimals == 0:  # "85%", not "85.0%"
        rounded = rounded.cast(pl.Int64)
    return rounded.cast(pl.String).fill_null("—")


def _minutes(expr: pl.Expr) -> pl.Expr:
    return _fmt(expr / 60)


def _label(key: str, lang: str) -> str:
    return VALUES[key].label.zh if lang == "zh" else VALUES[key].label.en


def _heads(rule: str, level_column: str) -> tuple[pl.Expr, pl.Expr]:
    name = RULES[rule].name
    zh = pl.format("{} {}{}：", pl.col("name"), pl.lit(name.zh), level_zh(level_column))
    en = pl.format(
        "{} ({}) {} {}: ",
        pl.col("hub_id"),
        pl.col("carrier"),
        pl.lit(name.en),
        level_en(level_column),
    )
    return zh, en


def _overflow(zh_head: pl.Expr, en_head: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    eta = pl.col("time_to_overflow_s")
    minutes = _minutes(eta)
    eta_zh = pl.when(eta.is_not_null()).then(pl.format("，预计 {} 分钟后爆仓", minutes))
    eta_en = pl.when(eta.is_not_null()).then(pl.format(", overflow in ~{} min", minutes))
    numbers = (
        pl.col("backlog"),
        pl.col("storage_capacity"),
        _fmt(pl.col("utilization") * 100),
        _fmt(pl.col("net_inflow_per_min")),
    )
    zh = pl.format(
        f"{{}}{_label('backlog', 'zh')} {{}} {_PARCELS.zh} / {_label('storage_capacity', 'zh')} "
        f"{{}} {_PARCELS.zh} ({{}}%)，{_label('net_inflow_per_min', 'zh')} {{}} {_PER_MIN.zh}{{}}",
        zh_head,
        *numbers,
        eta_zh.otherwise(pl.lit("")),
    )
    en = pl.format(
        f"{{}}{_label('backlog', 'en')} {{}} / {{}} {_PARCELS.en} ({{}}%), "
        f"{_label('net_inflow_per_min', 'en')} {{}} {_PER_MIN.en}{{}}",
        en_head,
        *numbers,
        eta_en.otherwise(pl.lit("")),
    )
    return zh, en


def _saturation(zh_head: pl.Expr, en_head: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    arrivals = _fmt(pl.col("arrival_rate_per_min"))
    capacity = _fmt(pl.col("sort_capacity_per_hour") / 60)
    zh = pl.format(
        f"{{}}{_label('arrival_rate_per_min', 'zh')} {{}} {_PER_MIN.zh}，"
        f"超过{_label('sort_capacity_per_hour', 'zh')} {{}} {_PER_MIN.zh}",
        zh_head,
        arrivals,
        capacity,
    )
    en = pl.format(
        f"{{}}{_label('arrival_rate_per_min', 'en')} {{}} {_PER_MIN.en} above "
        f"{_label('sort_capacity_per_hour', 'en')} {{}} {_PER_MIN.en}",
        en_head,
        arrivals,
        capacity,
    )
    return zh, en


def hub_summaries(rule: str, level_column: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(summary, summary_en, values JSON) expressions for a hub rule."""
    zh_head, en_head = _heads(rule, level_column)
    if rule == "hub_overflow":
        zh, en = _overflow(zh_head, en_head)
    elif rule == "hub_sorting_saturation":
        zh, en = _saturation(zh_head, en_head)
    else:
        silent = _minutes(pl.col("silent_for_s"))
        zh = pl.format("{}已 {} 分钟未上报数据", zh_head, silent)
        en = pl.format("{}no data for {} min", en_head, silent)
    return zh, en, hub_values()


def hub_values() -> pl.Expr:
    """The ``values`` JSON of every hub rule (the same numbers for each)."""
    return pl.struct(
        "backlog",
        "storage_capacity",
        pl.col("utilization").round(4),
        pl.col("arrival_rate_per_min").round(1),
        pl.col("departure_rate_per_min").round(1),
        pl.col("net_inflow_per_min").round(1),
        pl.col("in_transit_parcels"),
        pl.col("time_to_overflow_s").round(0),
        pl.col("sort_capacity_per_hour"),
        pl.col("silent_for_s").round(0),
    ).struct.json_encode()


def province_summary(province: str, level: str, values: dict[str, Any]) -> tuple[str, str]:
    """(summary, summary_en) of ``province_congestion``."""
    name, percent = RULES["province_congestion"].name, round(values["orange_capacity_ratio"] * 100)
    return (
        f"{province} {name.zh}{LEVEL_ZH[level]}：按容量计 {percent}% 的转运中心处于橙色及以上"
        f"{RULES['hub_overflow'].name.zh}",
        f"{province} {name.en} {level.upper()}: {percent}% of hub capacity at orange or worse",
    )


def network_summary(level: str, values: dict[str, Any]) -> tuple[str, str]:
    """(summary, summary_en) of ``network_paralysis``."""
    name = RULES["network_paralysis"].name
    key_share = round(values["key_nodes_orange_capacity_ratio"] * 100)
    ratio = values["departure_arrival_ratio"]
    ratio_text = "—" if ratio is None else f"{ratio:.2f}"
    silent = round(values["key_nodes_silent_ratio"] * 100)
    return (
        f"{name.zh}{LEVEL_ZH[level]}：重要节点 {key_share}% (按容量) 处于橙色及以上，"
        f"近30分钟发运/到件比 {ratio_text}，{silent}% 重要节点{RULES['hub_silent'].name.zh}",
        f"{name.en} {level.upper()}: {key_share}% of key-node capacity at orange or worse, "
        f"30-min departures/arrivals {ratio_text}, {silent}% of key nodes silent",
    )


def outage_summary(level: str, values: dict[str, Any]) -> tuple[str, str]:
    """(summary, summary_en) of ``network_data_outage``."""
    name = RULES["network_data_outage"].name
    silent, reporting = values["hubs_silent"], values["hubs_reporting"]
    percent = round(values["hubs_silent_ratio"] * 100)
    return (
        f"{name.zh}{LEVEL_ZH[level]}：{reporting} 个曾上报的转运中心中 {silent} 个 ({percent}%)"
        " 已停止上报，监测数据不可信",
        f"{name.en} {level.upper()}: {silent} of {reporting} reporting hubs ({percent}%) have "
        "gone silent; the picture cannot be trusted",
    )
