"""Chinese and English summaries of signals, with the numbers that say why, as Polars expressions
(one call for all rows)."""

from __future__ import annotations

import polars as pl

LEVEL_ZH = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}
RULE_ZH = {
    "hub_overflow": "爆仓风险",
    "hub_sorting_saturation": "分拣能力饱和",
    "hub_silent": "数据中断",
    "province_congestion": "省内拥堵",
    "network_paralysis": "全网瘫痪风险",
    "network_data_outage": "全网数据中断",
}
RULE_EN = {
    "hub_overflow": "overflow risk",
    "hub_sorting_saturation": "sorting saturated",
    "hub_silent": "data feed silent",
    "province_congestion": "province congestion",
    "network_paralysis": "network paralysis risk",
    "network_data_outage": "network data outage",
}


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


def hub_summaries(rule: str, level_column: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(summary, summary_en, values JSON) expressions for a hub rule."""
    name, hub = pl.col("name"), pl.col("hub_id")
    zh_head = pl.format("{} {}{}：", name, pl.lit(RULE_ZH[rule]), level_zh(level_column))
    en_head = pl.format(
        "{} ({}) {} {}: ", hub, pl.col("carrier"), pl.lit(RULE_EN[rule]), level_en(level_column)
    )
    percent = _fmt(pl.col("utilization") * 100)
    eta_zh = (
        pl.when(pl.col("time_to_overflow_s").is_not_null())
        .then(pl.format("，预计 {} 分钟后爆仓", _minutes(pl.col("time_to_overflow_s"))))
        .otherwise(pl.lit(""))
        if rule == "hub_overflow"
        else pl.lit("")
    )
    eta_en = (
        pl.when(pl.col("time_to_overflow_s").is_not_null())
        .then(pl.format(", overflow in ~{} min", _minutes(pl.col("time_to_overflow_s"))))
        .otherwise(pl.lit(""))
        if rule == "hub_overflow"
        else pl.lit("")
    )
    if rule == "hub_overflow":
        zh = pl.format(
            "{}库存 {} 件 / 容量 {} 件 ({}%)，净流入 {} 件/分{}",
            zh_head,
            pl.col("backlog"),
            pl.col("storage_capacity"),
            percent,
            _fmt(pl.col("net_inflow_per_min")),
            eta_zh,
        )
        en = pl.format(
            "{}backlog {} / {} ({}%), net inflow {}/min{}",
            en_head,
            pl.col("backlog"),
            pl.col("storage_capacity"),
            percent,
            _fmt(pl.col("net_inflow_per_min")),
            eta_en,
        )
    elif rule == "hub_sorting_saturation":
        capacity = _fmt(pl.col("sort_capacity_per_hour") / 60)
        zh = pl.format(
            "{}到件 {} 件/分，超过分拣能力 {} 件/分",
            zh_head,
            _fmt(pl.col("arrival_rate_per_min")),
            capacity,
        )
        en = pl.format(
            "{}arrivals {}/min above sorting capacity {}/min",
            en_head,
            _fmt(pl.col("arrival_rate_per_min")),
            capacity,
        )
    else:
        zh = pl.format("{}已 {} 分钟未上报数据", zh_head, _minutes(pl.col("silent_for_s")))
        en = pl.format("{}no data for {} min", en_head, _minutes(pl.col("silent_for_s")))
    values = pl.struct(
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
    return zh, en, values
