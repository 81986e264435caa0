"""节点 — one hub: level, utilisation, time to overflow, flows against capacity.

The hub is picked in three chained steps, province → carrier → hub, so no dropdown ever lists
thousands of hubs.
"""

from __future__ import annotations

from builders import (
    Json,
    Row,
    dashboard,
    level_mappings,
    level_thresholds,
    query_variable,
    stat,
    table,
    target,
    timeseries,
    warning_thresholds,
)
from promql import PER_HOUR, with_registry
from words import legend, value, value_in

from core.levels import LEVEL_COLOURS

UID = "peakwatch-hub"
HUB = 'hub_id=~"$hub"'
LEVEL_DEFAULTS: Json = {"mappings": level_mappings(), "thresholds": level_thresholds()}
TEXT_COLOUR: Json = {"color": {"mode": "fixed", "fixedColor": "text"}}
UTILISATION_THRESHOLDS = warning_thresholds(blue=0.7, yellow=0.8, orange=0.9, red=1.0)


def _hub(metric: str, agg: str = "max") -> str:
    return f"{agg}({metric}{{{HUB}}})"


def _status_row() -> Row:
    return Row(
        title="节点态势",
        panels=[
            stat(
                "风险等级",
                "Worst level of the hub's rules (hub_overflow, hub_sorting_saturation, "
                "hub_silent).",
                [target(_hub("peakwatch_hub_level"))],
                defaults=LEVEL_DEFAULTS,
            ),
            stat(
                value("utilization"),
                "Backlog / storage capacity (hub_overflow: 70 % blue, 80 % yellow, 90 % orange, "
                "100 % red by default).",
                [target(_hub("peakwatch_hub_utilization_ratio"))],
                unit="percentunit",
                defaults={"thresholds": UTILISATION_THRESHOLDS},
            ),
            stat(
                value_in("backlog", "parcels"),
                "Parcels on hand: the last backlog report plus arrivals minus departures since.",
                [target(_hub("peakwatch_hub_backlog_parcels"))],
                unit="short",
                defaults=TEXT_COLOUR,
            ),
            stat(
                value("time_to_overflow_s"),
                "Time until the hub is full at its current net inflow (hub_overflow: 3 h yellow, "
                "1 h orange, 15 min red). Empty when the hub is not filling.",
                [target(_hub("peakwatch_hub_time_to_overflow_seconds", "min"))],
                unit="s",
                no_value="未在积压",
                defaults={
                    "thresholds": {
                        "mode": "absolute",
                        "steps": [
                            {"color": LEVEL_COLOURS["red"], "value": None},
                            {"color": LEVEL_COLOURS["orange"], "value": 900},
                            {"color": LEVEL_COLOURS["yellow"], "value": 3600},
                            {"color": LEVEL_COLOURS["none"], "value": 10800},
                        ],
                    }
                },
            ),
            stat(
                value("silent_for_s"),
                "Event time since the hub's last event, measured against the watermark "
                "(hub_silent: 10 min yellow, 30 min orange; one level higher for key nodes).",
                [
                    target(
                        "max(peakwatch_watermark_timestamp_seconds) - "
                        + _hub("peakwatch_hub_last_event_timestamp_seconds")
                    )
                ],
                unit="s",
                defaults={"thresholds": warning_thresholds(yellow=600, orange=1800)},
            ),
            stat(
                value_in("in_transit_parcels", "parcels"),
                "Parcels that left other hubs towards this one and have not arrived yet.",
                [target(_hub("peakwatch_hub_in_transit_parcels"))],
                unit="short",
                defaults=TEXT_COLOUR,
            ),
        ],
    )


def _registry_row() -> Row:
    labels = "carrier, province, city, tier, key_node"

    def column(metric: str, scale: str = "") -> Json:
        expr = with_registry(f"max by (hub_id) ({metric}{{{HUB}}}){scale}", labels)
        return target(expr, table=True)

    return Row(
        panels=[
            table(
                "登记信息",
                "The hub as registered: owner, place, tier, key node, and its capacities.",
                [
                    column("peakwatch_hub_storage_capacity_parcels"),
                    column("peakwatch_hub_sort_capacity_parcels_per_second", PER_HOUR),
                ],
                keep=[
                    "hub_id",
                    "carrier",
                    "province",
                    "city",
                    "tier",
                    "key_node",
                    "Value #A",
                    "Value #B",
                ],
                rename={
                    "hub_id": "枢纽",
                    "carrier": "承运商",
                    "province": "省份",
                    "city": "城市",
                    "tier": "层级",
                    "key_node": "重点节点",
                    "Value #A": value_in("storage_capacity", "parcels"),
                    "Value #B": value_in("sort_capacity_per_hour", "per_hour"),
                },
                unit="short",
                width=24,
                height=4,
            )
        ]
    )


def _flow_row() -> Row:
    return Row(
        title="流量与容量",
        panels=[
            timeseries(
                f"{value('arrival_rate_per_min')}、{value('departure_rate_per_min')}与"
                f"{value_in('sort_capacity_per_hour', 'per_hour')}",
                "Arrivals and departures over the sliding window against the sorting capacity; "
                "arrivals above capacity for 15 min raise hub_sorting_saturation.",
                [
                    target(
                        _hub("peakwatch_hub_arrival_rate_parcels_per_second") + PER_HOUR,
                        legend("arrival_rate_per_min"),
                    ),
                    target(
                        _hub("peakwatch_hub_departure_rate_parcels_per_second") + PER_HOUR,
                        legend("departure_rate_per_min"),
                    ),
                    target(
                        _hub("peakwatch_hub_sort_capacity_parcels_per_second") + PER_HOUR,
                        legend("sort_capacity_per_hour"),
                    ),
                ],
                unit="short",
            ),
            timeseries(
                f"{value('backlog')}、{value('in_transit_parcels')}与"
                f"{value_in('storage_capacity', 'parcels')}",
                "Parcels on hand and on their way here, against what the site can hold.",
                [
                    target(_hub("peakwatch_hub_backlog_parcels"), legend("backlog")),
                    target(_hub("peakwatch_hub_in_transit_parcels"), legend("in_transit_parcels")),
                    target(
                        _hub("peakwatch_hub_storage_capacity_parcels"), legend("storage_capacity")
                    ),
                ],
                unit="short",
            ),
            timeseries(
                f"{value('utilization')}走势",
                "Backlog / storage capacity, with the hub_overflow thresholds drawn in.",
                [target(_hub("peakwatch_hub_utilization_ratio"), legend("utilization"))],
                unit="percentunit",
                width=8,
                defaults={
                    "thresholds": UTILISATION_THRESHOLDS,
                    "custom": {"thresholdsStyle": {"mode": "line+area"}},
                },
            ),
            timeseries(
                f"{value('time_to_overflow_s')}走势",
                "Time to overflow at the current net inflow; gaps are times the hub was not "
                "filling.",
                [
                    target(
                        _hub("peakwatch_hub_time_to_overflow_seconds", "min"),
                        legend("time_to_overflow_s"),
                    )
                ],
                unit="s",
                width=8,
            ),
            timeseries(
                "风险等级走势",
                "The hub's level over time.",
                [target(_hub("peakwatch_hub_level"), "等级 level")],
                width=8,
                defaults={
                    "min": -1,
                    "max": 4,
                    **LEVEL_DEFAULTS,
                    "custom": {"lineInterpolation": "stepAfter", "showPoints": "never"},
                },
            ),
            timeseries(
                "累计到达与发出(件)",
                "Parcels arrived and departed since the service first saw the hub.",
                [
                    target(_hub("peakwatch_hub_arrived_parcels_total"), "到达 arrived"),
                    target(_hub("peakwatch_hub_departed_parcels_total"), "发出 departed"),
                ],
                unit="short",
                width=24,
                height=6,
            ),
        ],
    )


def build() -> Json:
    """The hub drill-down board."""
    return dashboard(
        uid=UID,
        title="peakwatch · 节点",
        description=(
            "One hub in detail. Pick a province, then a carrier, then the hub: the hub list "
            "only holds the hubs of that province and carrier."
        ),
        rows=[_status_row(), _registry_row(), _flow_row()],
        variables=[
            query_variable(
                "province",
                "省份",
                "label_values(peakwatch_hub_info, province)",
                include_all=True,
                description="Province (narrows the hub list)",
            ),
            query_variable(
                "carrier",
                "承运商",
                'label_values(peakwatch_hub_info{province=~"$province"}, carrier)',
                include_all=True,
                description="Carrier (narrows the hub list)",
            ),
            query_variable(
                "hub",
                "枢纽",
                'label_values(peakwatch_hub_info{province=~"$province", carrier=~"$carrier"}, '
                "hub_id)",
                description="Hub of the chosen province and carrier",
            ),
        ],
    )
