"""PromQL pieces the boards share.

Every replica may render the per-hub and network gauges (each holds the whole network view), so
the boards first take ``max by (hub_id)`` (or by province, level, ...) to count each hub once,
whatever the number of replicas scraped. Registry labels come from the recorded, de-duplicated
``hub_id:peakwatch_hub_info:max`` (deploy/prometheus/peakwatch-recording.rules.yml).
"""

from __future__ import annotations

HUB_INFO = "hub_id:peakwatch_hub_info:max"
PER_HOUR = " * 3600"  # the gauges are per second; people read parcel flows per hour


def per_hub(metric: str, *, agg: str = "max") -> str:
    """``metric`` once per hub (``agg`` over the replicas that export it)."""
    return f"{agg} by (hub_id) ({metric})"


def with_registry(expr: str, labels: str, info_selector: str = "") -> str:
    """``expr`` (one series per hub_id) with registry ``labels`` joined on, filtered by them."""
    info = f"{HUB_INFO}{{{info_selector}}}" if info_selector else HUB_INFO
    return f"{expr} * on (hub_id) group_left ({labels}) {info}"


def hub_level_count(level_rank: int, info_selector: str) -> str:
    """Number of hubs at exactly ``level_rank`` among those ``info_selector`` picks; 0 if none."""
    level = f"({per_hub('peakwatch_hub_level')} == {level_rank})"
    return f"count({with_registry(level, '', info_selector)}) or vector(0)"


def alerts_now(selector: str) -> str:
    """``peakwatch_alerts`` matching ``selector``, each rule/level/state once across replicas."""
    return f"max by (rule, level, state) (peakwatch_alerts{{{selector}}})"


def firing(selector: str) -> str:
    """Number of alerts now in ``peakwatch_alerts`` matching ``selector``; 0 when none."""
    return f"sum({alerts_now(selector)}) or vector(0)"


def quantile(q: float, histogram: str, by: str = "") -> str:
    """The ``q`` quantile of a histogram over all replicas, per ``by`` labels if given."""
    labels = f"le, {by}" if by else "le"
    return (
        f"histogram_quantile({q}, sum by ({labels}) (rate({histogram}_bucket[$__rate_interval])))"
    )
