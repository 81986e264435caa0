"""Hub rules: ``hub_overflow`` (爆仓风险), ``hub_sorting_saturation``, ``hub_silent`` (数据中断).

``classify`` adds each rule's level to the hub measures (and the hub's worst level); ``signals``
turns the rows at blue or worse into the signal frame, with summaries in Chinese and English.
"""

from __future__ import annotations

import polars as pl

from core.config import RiskConfig
from core.levels import LEVEL_DTYPE, LEVELS
from core.sensitivity import empty_warnings, under_warning
from core.signals import SIGNAL_SCHEMA, empty_signals
from core.summaries import hub_summaries

_NONE = pl.lit("none")


def _utilization_floor(config: RiskConfig, name: str) -> pl.Expr | None:
    """The level's floor; under a warning (``under_warning``) the lowered one where lower."""
    usual = config.overflow_utilization.get(name)
    lowered = config.warning_sensitivity.overflow_utilization.get(name)
    if lowered is None or not config.warning_sensitivity.enabled:
        return None if usual is None else pl.lit(usual)
    floor = lowered if usual is None else min(usual, lowered)
    return pl.when(pl.col("under_warning")).then(pl.lit(floor)).otherwise(pl.lit(usual))


def _overflow_level(config: RiskConfig) -> pl.Expr:
    utilization, eta = pl.col("utilization"), pl.col("time_to_overflow_s")
    level = _NONE
    for name in ("blue", "yellow", "orange", "red"):  # later (worse) wins
        floor = _utilization_floor(config, name)
        hit = pl.lit(False) if floor is None else utilization >= floor
        if name in config.overflow_eta_s:
            hit = hit | (eta <= config.overflow_eta_s[name])
        level = pl.when(hit.fill_null(False)).then(pl.lit(name)).otherwise(level)
    return level


def _saturation_level(config: RiskConfig) -> pl.Expr:
    return (
        pl.when(
            pl.col("sorting_saturated")
            & (pl.col("saturation_ratio") >= config.saturation_orange_ratio)
        )
        .then(pl.lit("orange"))
        .when(pl.col("sorting_saturated"))
        .then(pl.lit("yellow"))
        .otherwise(_NONE)
    )


def _silent_level(config: RiskConfig) -> pl.Expr:
    silent, key = pl.col("silent_for_s"), pl.col("key_node")
    return (
        pl.when(silent >= config.silent_orange_s)
        .then(pl.when(key).then(pl.lit("red")).otherwise(pl.lit("orange")))
        .when(silent >= config.silent_yellow_s)
        .then(pl.when(key).then(pl.lit("orange")).otherwise(pl.lit("yellow")))
        .otherwise(_NONE)
    )


def classify(
    measures: pl.DataFrame,
    config: RiskConfig,
    *,
    warnings: pl.DataFrame | None = None,
    step_ms: int | None = None,
) -> pl.DataFrame:
    """Measures plus ``overflow_level``, ``saturation_level``, ``silent_level`` and ``level``.

    A hub never heard from is ``unknown`` on every rule; a hub with no storage capacity
    configured is not rated for overflow. ``warnings`` (``core.sensitivity.WARNINGS_SCHEMA``)
    valid at ``step_ms`` lower the overflow floors of the key nodes they cover when
    ``config.warning_sensitivity`` is enabled.
    """
    heard = pl.col("last_event_at").is_not_null()
    unknown = pl.lit("unknown")
    flags = under_warning(
        measures,
        empty_warnings() if warnings is None or step_ms is None else warnings,
        step_ms=step_ms or 0,
        config=config.warning_sensitivity,
    )
    levels = (
        measures.with_columns(flags)
        .with_columns(
            pl.when(heard)
            .then(_overflow_level(config))
            .otherwise(unknown)
            .cast(LEVEL_DTYPE)
            .alias("overflow_level"),
            pl.when(heard)
            .then(_saturation_level(config))
            .otherwise(unknown)
            .cast(LEVEL_DTYPE)
            .alias("saturation_level"),
            pl.when(heard)
            .then(_silent_level(config))
            .otherwise(unknown)
            .cast(LEVEL_DTYPE)
            .alias("silent_level"),
        )
        .drop("under_warning")
    )
    return levels.with_columns(
        pl.max_horizontal(
            pl.col("overflow_level").to_physical(),
            pl.col("saturation_level").to_physical(),
            pl.col("silent_level").to_physical(),
        )
        .cast(pl.UInt32)
        .pipe(lambda rank: pl.lit(pl.Series(LEVELS)).gather(rank))
        .cast(LEVEL_DTYPE)
        .alias("level")
    )


_HUB_RULES = (
    ("hub_overflow", "overflow_level"),
    ("hub_sorting_saturation", "saturation_level"),
    ("hub_silent", "silent_level"),
)


def signals(states: pl.DataFrame) -> pl.DataFrame:
    """One signal row per hub rule at blue or worse (``SIGNAL_SCHEMA``)."""
    blue = LEVELS.index("blue")  # the level enum's physical order is its severity
    hits = states.filter(pl.col("level").to_physical() >= blue)
    if hits.height == 0:  # the usual tick: nothing to say
        return empty_signals()
    # the rules' rows stacked (level in "rule_level"), then one pass writes every summary
    stacked = pl.concat(
        [
            hits.lazy()
            .filter(pl.col(column).to_physical() >= blue)
            .with_columns(rule=pl.lit(rule), rule_level=pl.col(column))
            for rule, column in _HUB_RULES
        ]
    )
    summary = summary_en = pl.lit(None, pl.String)
    for rule, _ in _HUB_RULES:
        zh, en, values = hub_summaries(rule, "rule_level")
        summary = pl.when(pl.col("rule") == rule).then(zh).otherwise(summary)
        summary_en = pl.when(pl.col("rule") == rule).then(en).otherwise(summary_en)
    return (
        stacked.select(
            "rule",
            pl.lit("hub").alias("scope"),
            pl.col("hub_id").alias("subject"),
            pl.col("rule_level").alias("level"),
            "hub_id",
            "carrier",
            "province",
            summary.alias("summary"),
            summary_en.alias("summary_en"),
            values.alias("values"),  # the same numbers for every hub rule
            "at",
        )
        .cast(SIGNAL_SCHEMA)  # type: ignore[arg-type]
        .collect()
    )
