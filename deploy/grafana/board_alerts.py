"""告警 — the service's alerts: how many, of which rule and level, and whether they reach people.

Prometheus sees counts per rule, level and state; the alerts themselves (subject, summary, who
acknowledged) are in the API, ``GET /v1/alerts``, and on the live board.
"""

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
    text,
    timeseries,
    warning_thresholds,
)
from promql import alerts_now, firing, per_hub, with_registry
from words import rule_level

from core.levels import LEVEL_COLOURS, LEVEL_NAMES_ZH, WARNING_LEVELS
from core.vocabulary import RULES

UID = "peakwatch-alerts"
FIRING = 'state="firing"'


def _count_row() -> Row:
    per_level = [
        stat(
            f"触发中 · {LEVEL_NAMES_ZH[level]}",
            f"Alerts firing now at level {level}.",
            [target(firing(f'state="firing", level="{level}"'))],
            defaults={
                "thresholds": {
                    "mode": "absolute",
                    "steps": [
                        {"color": LEVEL_COLOURS["none"], "value": None},
                        {"color": LEVEL_COLOURS[level], "value": 1},
                    ],
                }
            },
        )
        for level in reversed(WARNING_LEVELS)
    ]
    return Row(
        title="告警概况",
        panels=[
            *per_level,
            stat(
                "待定",
                "Alerts whose condition holds but has not yet held for the pending period.",
                [target(firing('state="pending"'))],
                defaults={"thresholds": warning_thresholds(yellow=1)},
            ),
            stat(
                "待发送通知",
                "Notifications recorded in the outbox and not yet delivered; a growing number "
                "means a receiver is failing.",
                [target("max(peakwatch_notification_outbox_pending)")],
                defaults={"thresholds": warning_thresholds(yellow=10, orange=100)},
            ),
        ],
    )


def _trend_row() -> Row:
    level_colours = [
        override_by_name(
            level,
            displayName=LEVEL_NAMES_ZH[level],
            color={"mode": "fixed", "fixedColor": LEVEL_COLOURS[level]},
        )
        for level in WARNING_LEVELS
    ]
    rule_names = [  # the series are rule ids; people read the vocabulary's names
        override_by_name(rule, displayName=term.name.zh) for rule, term in RULES.items()
    ]
    return Row(
        title="走势",
        panels=[
            timeseries(
                "触发中的告警(按规则)",
                "Firing alerts per rule id, stacked.",
                [
                    target(
                        f"sum by (rule) ({alerts_now(FIRING)}) or vector(0)",
                        "{{rule}}",
                    )
                ],
                stacked=True,
                overrides=rule_names,
            ),
            timeseries(
                "触发中的告警(按等级)",
                "Firing alerts per level, stacked.",
                [
                    target(
                        f"sum by (level) ({alerts_now(FIRING)}) or vector(0)",
                        "{{level}}",
                    )
                ],
                stacked=True,
                overrides=level_colours,
            ),
            timeseries(
                "状态变化(次/时)",
                "Alert lifecycle transitions per hour, by rule and new state (pending, firing, "
                "resolved). Many per hour for one rule suggests a threshold sitting on the data.",
                [
                    target(
                        "sum by (rule, to) (increase(peakwatch_alert_transitions_total[1h]))"
                        " or vector(0)",
                        "{{rule}} → {{to}}",
                    )
                ],
            ),
            timeseries(
                "通知投递(次/时)",
                "Notification deliveries per hour by receiver and outcome (sent, retry, failed, "
                "suppressed by silences or acknowledgements).",
                [
                    target(
                        "sum by (receiver, outcome) "
                        "(increase(peakwatch_notifications_total[1h])) or vector(0)",
                        "{{receiver}} {{outcome}}",
                    )
                ],
            ),
        ],
    )


def _worst_row() -> Row:
    worst_hubs = with_registry(
        f"topk(20, {per_hub('peakwatch_hub_level')})", "carrier, province, city, key_node"
    )
    return Row(
        title="风险最高",
        panels=[
            table(
                "风险最高的枢纽",
                "The 20 hubs at the highest level now.",
                [target(worst_hubs, table=True)],
                keep=["hub_id", "carrier", "province", "city", "key_node", "Value"],
                rename={
                    "hub_id": "枢纽",
                    "carrier": "承运商",
                    "province": "省份",
                    "city": "城市",
                    "key_node": "重点节点",
                    "Value": "等级",
                },
                overrides=[
                    override_by_name(
                        "等级", mappings=level_mappings(), thresholds=level_thresholds()
                    )
                ],
                width=12,
                height=12,
            ),
            bargauge(
                f"{rule_level('province_congestion')}(各省)",
                "province_congestion level per province, worst first.",
                [target("sort_desc(max by (province) (peakwatch_province_level))", "{{province}}")],
                width=6,
                height=12,
                defaults={
                    "min": 0,
                    "max": 4,
                    "mappings": level_mappings(),
                    "thresholds": level_thresholds(),
                },
            ),
            text(
                "告警明细",
                "The alerts themselves — subject, summary, values, who acknowledged — are in "
                "the peakwatch API (`GET /v1/alerts?state=firing`) and on the live board (`/`). "
                "Acknowledge with `POST /v1/alerts/{id}/ack`, silence with `POST /v1/silences`. "
                "The runbook for each rule is in docs/operations.md.",
                width=6,
                height=12,
            ),
        ],
    )


def build() -> Json:
    """The alerts board."""
    return dashboard(
        uid=UID,
        title="peakwatch · 告警",
        description=(
            "The service's alerts by rule, level and state, their lifecycle transitions, and "
            "notification delivery. The alert list itself is in the API (/v1/alerts)."
        ),
        rows=[_count_row(), _trend_row(), _worst_row()],
    )
