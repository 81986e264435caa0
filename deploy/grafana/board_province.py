"""省份 — one province: its congestion level, flows, and every hub in it."""

from __future__ import annotations

from builders import (
    Json,
    Row,
    bargauge,
    dashboard,
    level_mappings,
    level_thresholds,
    override_by_name,
    query_variable,
    stat,
    table,
    target,
    timeseries,
    warning_thresholds,
)
from promql import PER_HOUR, hub_level_count, per_hub, with_registry
from words import hubs_at_least, legend, rule_level, value, value_in

from core.levels import LEVEL_COLOURS, LEVEL_NAMES_ZH, LEVEL_RANK
from core.vocabulary import UNITS

UID = "peakwatch-province"
IN_PROVINCE = 'province=~"$province"'
LEVEL_DEFAULTS: Json = {"mappings": level_mappings(), "thresholds": level_thresholds()}
HUB_LINK = "/d/peakwatch-hub/?var-province=${province}&var-carrier=$__all&var-hub=${__value.raw}"
# Headings of the hub table, also the names its unit overrides match.
UTILISATION = value("utilization")
BACKLOG = value_in("backlog", "parcels")
TIME_TO_OVERFLOW = value("time_to_overflow_s")


def _status_row() -> Row:
    def recorded(name: str) -> str:
        return f"sum({name}{{{IN_PROVINCE}}})"

    return Row(
        title="省内态势",
        panels=[
            stat(
                rule_level("province_congestion"),
                "Level of the province_congestion rule for this province.",
                [target(f"max(peakwatch_province_level{{{IN_PROVINCE}}})")],
                defaults=LEVEL_DEFAULTS,
            ),
            stat(
                value("orange_capacity_ratio"),
                "Capacity-weighted share of the province's hubs at orange or worse "
                "(province_congestion: 30 % orange, 50 % red by default).",
                [target(f"max(peakwatch_province_orange_capacity_ratio{{{IN_PROVINCE}}})")],
                unit="percentunit",
                defaults={"thresholds": warning_thresholds(orange=0.3, red=0.5)},
            ),
            stat(
                f"省内{value('utilization')}",
                "Parcels on hand in the province as a share of its storage capacity.",
                [
                    target(
                        "max(province:peakwatch_hub_utilization_ratio:capacity_weighted"
                        f"{{{IN_PROVINCE}}})"
                    )
                ],
                unit="percentunit",
                defaults={"thresholds": warning_thresholds(blue=0.7, yellow=0.8, orange=0.9)},
            ),
            stat(
                hubs_at_least("orange"),
                "Hubs in the province whose worst rule is at orange or red.",
                [target(recorded("province:peakwatch_hubs_orange_or_worse:count"))],
                defaults={"thresholds": warning_thresholds(orange=1)},
            ),
            stat(
                value("hubs"),
                "Registered hubs in the province.",
                [target(recorded("province:peakwatch_hubs:count"))],
                defaults={"color": {"mode": "fixed", "fixedColor": "text"}},
            ),
            stat(
                value_in("in_transit_parcels", "parcels"),
                "Parcels that left a hub towards this province's hubs and have not arrived.",
                [target(recorded("province:peakwatch_hub_in_transit_parcels:sum"))],
                unit="short",
                defaults={"color": {"mode": "fixed", "fixedColor": "text"}},
            ),
        ],
    )


def _flow_row() -> Row:
    def series(name: str, legend: str, scale: str = "") -> Json:
        return target(f"sum({name}{{{IN_PROVINCE}}}){scale}", legend)

    level_targets = [
        target(hub_level_count(rank, IN_PROVINCE), LEVEL_NAMES_ZH[name])
        for name, rank in LEVEL_RANK.items()
    ]
    level_colours = [
        override_by_name(LEVEL_NAMES_ZH[name], color={"mode": "fixed", "fixedColor": colour})
        for name, colour in LEVEL_COLOURS.items()
    ]
    return Row(
        title="省内流量",
        panels=[
            timeseries(
                f"{value('arrival_rate_per_min')}与{value('departure_rate_per_min')}"
                f"({UNITS['per_hour'].zh})",
                "Parcels arriving at and leaving the province's hubs, per hour.",
                [
                    series(
                        "province:peakwatch_hub_arrival_rate_parcels_per_second:sum",
                        legend("arrival_rate_per_min"),
                        PER_HOUR,
                    ),
                    series(
                        "province:peakwatch_hub_departure_rate_parcels_per_second:sum",
                        legend("departure_rate_per_min"),
                        PER_HOUR,
                    ),
                ],
                unit="short",
                width=9,
            ),
            timeseries(
                f"{value('backlog')}与{value_in('storage_capacity', 'parcels')}",
                "Parcels on hand at the province's hubs against their storage capacity.",
                [
                    series("province:peakwatch_hub_backlog_parcels:sum", legend("backlog")),
                    series(
                        "province:peakwatch_hub_storage_capacity_parcels:sum",
                        legend("storage_capacity"),
                    ),
                ],
                unit="short",
                width=9,
            ),
            bargauge(
                f"各等级{value('hubs')}",
                "Hubs of the province at each level (worst of the hub rules) now.",
                level_targets,
                width=6,
                defaults={"min": 0, "color": {"mode": "fixed", "fixedColor": "text"}},
            ),
            timeseries(
                f"{rule_level('province_congestion')}与{value('orange_capacity_ratio')}",
                "The province_congestion level and the share behind it, over time.",
                [
                    target(f"max(peakwatch_province_level{{{IN_PROVINCE}}})", "等级 level"),
                    target(
                        f"max(peakwatch_province_orange_capacity_ratio{{{IN_PROVINCE}}})",
                        legend("orange_capacity_ratio"),
                    ),
                ],
                width=24,
                height=6,
                overrides=[
                    override_by_name(legend("orange_capacity_ratio"), unit="percentunit"),
                    *level_colours,
                ],
            ),
        ],
    )


def _hubs_row() -> Row:
    labels = "carrier, city, tier"

    def column(metric: str, agg: str = "max") -> Json:
        expr = with_registry(per_hub(metric, agg=agg), labels, IN_PROVINCE)
        return target(expr, table=True)

    return Row(
        title="省内枢纽",
        panels=[
            table(
                "省内枢纽",
                "Every hub of the province with its utilisation, backlog, time to overflow "
                "and level. Click a hub for its drill-down.",
                [
                    column("peakwatch_hub_utilization_ratio"),
                    column("peakwatch_hub_backlog_parcels"),
                    column("peakwatch_hub_time_to_overflow_seconds", agg="min"),
                    column("peakwatch_hub_level"),
                ],
                keep=[
                    "hub_id",
                    "carrier",
                    "city",
                    "tier",
                    "Value #A",
                    "Value #B",
                    "Value #C",
                    "Value #D",
                ],
                rename={
                    "hub_id": "枢纽",
                    "carrier": "承运商",
                    "city": "城市",
                    "tier": "层级",
                    "Value #A": UTILISATION,
                    "Value #B": BACKLOG,
                    "Value #C": TIME_TO_OVERFLOW,
                    "Value #D": "等级",
                },
                width=24,
                height=12,
                overrides=[
                    override_by_name("枢纽", links=[{"title": "节点详情 hub", "url": HUB_LINK}]),
                    override_by_name(UTILISATION, unit="percentunit"),
                    override_by_name(BACKLOG, unit="short"),
                    override_by_name(TIME_TO_OVERFLOW, unit="s"),
                    override_by_name(
                        "等级", mappings=level_mappings(), thresholds=level_thresholds()
                    ),
                ],
            ),
        ],
    )


def build() -> Json:
    """The province board."""
    return dashboard(
        uid=UID,
        title="peakwatch · 省份",
        description=(
            "One province: its province_congestion level, arrivals and departures, backlog "
            "against capacity, and every hub in it. Pick the province at the top."
        ),
        rows=[_status_row(), _flow_row(), _hubs_row()],
        variables=[
            query_variable(
                "province",
                "省份",
                "label_values(peakwatch_hub_info, province)",
                description="Province (from the hub registry)",
            )
        ],
    )
