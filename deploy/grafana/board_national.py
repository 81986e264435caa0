"""全国总览 — the national picture: is the network at risk of paralysis, where is it filling up."""

from __future__ import annotations

from builders import (
    Json,
    Row,
    bargauge,
    dashboard,
    level_mappings,
    level_thresholds,
    override_by_name,
    stat,
    table,
    target,
    timeseries,
    warning_thresholds,
)
from promql import HUB_INFO, PER_HOUR, per_hub, with_registry
from words import hubs_at_least, legend, rule_level, value, value_in

from core.levels import LEVEL_COLOURS, LEVEL_NAMES_ZH, LEVELS
from core.vocabulary import RULES, UNITS

UID = "peakwatch-national"
HUB_LINK = "/d/peakwatch-hub/?var-province=$__all&var-carrier=$__all&var-hub=${__value.raw}"
LEVEL_DEFAULTS: Json = {"mappings": level_mappings(), "thresholds": level_thresholds()}


def _status_row() -> Row:
    return Row(
        title="全网态势",
        panels=[
            stat(
                rule_level("network_paralysis"),
                "Level of the network_paralysis rule: none, or blue < yellow < orange < red.",
                [target("max(peakwatch_network_level)")],
                defaults=LEVEL_DEFAULTS,
            ),
            stat(
                value("key_nodes_orange_capacity_ratio"),
                "Capacity-weighted share of key nodes at orange or worse "
                "(network_paralysis: 10 % yellow, 20 % orange, 35 % red by default).",
                [target("max(peakwatch_network_key_nodes_orange_capacity_ratio)")],
                unit="percentunit",
                defaults={"thresholds": warning_thresholds(yellow=0.1, orange=0.2, red=0.35)},
            ),
            stat(
                f"全国{value('departure_arrival_ratio')}",
                "National departures divided by arrivals over 30 min; below 0.6 for 30 min the "
                "network is taking parcels in faster than it moves them on.",
                [target("max(peakwatch_network_departure_arrival_ratio)")],
                unit="percentunit",
                defaults={
                    "thresholds": {
                        "mode": "absolute",
                        "steps": [
                            {"color": LEVEL_COLOURS["orange"], "value": None},
                            {"color": LEVEL_COLOURS["none"], "value": 0.6},
                        ],
                    }
                },
            ),
            stat(
                value("key_nodes_silent_ratio"),
                "Share of key nodes that stopped reporting (hub_silent); 10 % or more raises "
                "network_paralysis.",
                [target("max(peakwatch_network_key_nodes_silent_ratio)")],
                unit="percentunit",
                defaults={"thresholds": warning_thresholds(orange=0.1)},
            ),
            stat(
                hubs_at_least("orange"),
                "Hubs whose worst rule is at orange or red now.",
                [target('sum(max by (level) (peakwatch_hubs{level=~"orange|red"}))')],
                defaults={"thresholds": warning_thresholds(orange=1)},
            ),
            stat(
                "数据时效(水位滞后)",
                "Wall clock minus the event-time watermark: how old the picture on these boards "
                "is. Minutes mean the service is behind or couriers stopped sending.",
                [target("max(peakwatch_watermark_lag_seconds)")],
                unit="s",
                defaults={"thresholds": warning_thresholds(yellow=300, orange=900)},
            ),
        ],
    )


def _flow_row() -> Row:
    level_overrides = [
        override_by_name(
            name,
            displayName=LEVEL_NAMES_ZH[name],
            color={"mode": "fixed", "fixedColor": LEVEL_COLOURS[name]},
        )
        for name in LEVELS
    ]
    return Row(
        title="全国流量与积压",
        panels=[
            timeseries(
                f"全国{value('arrival_rate_per_min')}与{value('departure_rate_per_min')}"
                f"({UNITS['per_hour'].zh})",
                "Parcels arriving at and leaving all hubs, per hour, over each hub's sliding "
                "window. Departures falling behind arrivals is how congestion starts.",
                [
                    target(
                        f"network:peakwatch_hub_arrival_rate_parcels_per_second:sum{PER_HOUR}",
                        legend("arrival_rate_per_min"),
                    ),
                    target(
                        f"network:peakwatch_hub_departure_rate_parcels_per_second:sum{PER_HOUR}",
                        legend("departure_rate_per_min"),
                    ),
                ],
                unit="short",
            ),
            timeseries(
                f"全国{value('backlog')}、{value('in_transit_parcels')}与"
                f"{value_in('storage_capacity', 'parcels')}",
                "Parcels on hand at all hubs, parcels travelling between hubs, and the total "
                "storage capacity.",
                [
                    target("network:peakwatch_hub_backlog_parcels:sum", legend("backlog")),
                    target(
                        "network:peakwatch_hub_in_transit_parcels:sum", legend("in_transit_parcels")
                    ),
                    target(
                        "network:peakwatch_hub_storage_capacity_parcels:sum",
                        legend("storage_capacity"),
                    ),
                ],
                unit="short",
            ),
            timeseries(
                f"各等级{value('hubs')}",
                "Number of hubs at each level (worst of the hub rules), stacked.",
                [target("max by (level) (peakwatch_hubs)", "{{level}}")],
                stacked=True,
                overrides=level_overrides,
            ),
            timeseries(
                f"{RULES['network_paralysis'].name.zh}与{rule_level('province_congestion')}",
                "network_paralysis level, and each province's province_congestion level.",
                [
                    target("max(peakwatch_network_level)", "全网 network"),
                    target("max by (province) (peakwatch_province_level)", "{{province}}"),
                ],
                defaults={"max": 4, "min": -1, "custom": {"lineInterpolation": "stepAfter"}},
            ),
        ],
    )


def _ranking_row() -> Row:
    columns = ["hub_id", "carrier", "province", "city", "tier", "Value"]
    headings = {
        "hub_id": "枢纽",
        "carrier": "承运商",
        "province": "省份",
        "city": "城市",
        "tier": "层级",
    }
    link = override_by_name("枢纽", links=[{"title": "节点详情 hub", "url": HUB_LINK}])
    utilisation = with_registry(
        f"topk(15, {per_hub('peakwatch_hub_utilization_ratio')})", "carrier, province, city, tier"
    )
    eta = with_registry(
        f"bottomk(15, {per_hub('peakwatch_hub_time_to_overflow_seconds', agg='min')})",
        "carrier, province, city, tier",
    )
    return Row(
        title="枢纽排行",
        panels=[
            table(
                f"{value('utilization')}最高的枢纽",
                "The 15 hubs with the highest utilisation (backlog / storage capacity). "
                "Click a hub for its drill-down.",
                [target(utilisation, table=True)],
                keep=columns,
                rename={**headings, "Value": value("utilization")},
                unit="percentunit",
                overrides=[link],
            ),
            table(
                "最快爆仓的枢纽",
                "The 15 hubs that will overflow soonest at their current net inflow "
                "(hubs that are not filling have no ETA and are not listed).",
                [target(eta, table=True)],
                keep=columns,
                rename={**headings, "Value": value("time_to_overflow_s")},
                unit="s",
                overrides=[link],
            ),
        ],
    )


def _province_row() -> Row:
    return Row(
        title="省份与承运商",
        panels=[
            bargauge(
                f"各省{value('utilization')}",
                "Each province's backlog as a share of its hubs' storage capacity.",
                [
                    target(
                        "sort_desc(province:peakwatch_hub_utilization_ratio:capacity_weighted)",
                        "{{province}}",
                    )
                ],
                unit="percentunit",
                width=8,
                height=12,
                defaults={
                    "min": 0,
                    "max": 1,
                    "thresholds": warning_thresholds(blue=0.7, yellow=0.8, orange=0.9, red=1.0),
                },
            ),
            bargauge(
                f"{rule_level('province_congestion')}(各省)",
                "province_congestion level per province, worst first.",
                [target("sort_desc(max by (province) (peakwatch_province_level))", "{{province}}")],
                width=8,
                height=12,
                defaults={"min": 0, "max": 4, **LEVEL_DEFAULTS},
            ),
            bargauge(
                f"各承运商{hubs_at_least('orange')}",
                "Per carrier, the number of its hubs at orange or red now.",
                [
                    target(
                        "sort_desc(sum by (carrier) "
                        '(max by (carrier, level) (peakwatch_carrier_hubs{level=~"orange|red"})))',
                        "{{carrier}}",
                    )
                ],
                width=8,
                height=12,
                defaults={"min": 0, "thresholds": warning_thresholds(orange=1)},
            ),
        ],
    )


def build() -> Json:
    """The national overview board."""
    return dashboard(
        uid=UID,
        title="peakwatch · 全国总览",
        description=(
            "National overview of the express-parcel network: the network_paralysis level, "
            "national arrivals and departures, hubs per level, and the hubs closest to overflow. "
            f"Registry labels are joined from {HUB_INFO}."
        ),
        rows=[_status_row(), _flow_row(), _ranking_row(), _province_row()],
    )
