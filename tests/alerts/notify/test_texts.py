"""A message for every rule, in Chinese and English, from what the core really says: small hub
frames go through core's rules, the signals become alerts as alerting makes them, and the text
shows the numbers that explain each rule, with units and labels, and no raw key names."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from alerts.config import RulePeriods
from alerts.evaluation.lifecycle import start
from alerts.evaluation.tick import signals_by_fingerprint
from alerts.model import Alert
from core import hub_rules
from core.config import RiskConfig
from core.network_rules import network_signals
from core.vocabulary import RULES, VALUES, Lang, rule_name
from tests.alerts.factories import item, renderer, single
from tests.core.factories import T0, hub_states

CONFIG = RiskConfig()


def _alerts_from_the_engine() -> dict[str, Alert]:
    """One firing alert per rule, from four hubs of 浙江: one filling up (a key node holding
    most of the capacity), one sorting over capacity, two silent."""
    measures = hub_states(
        {
            "hub_id": "HOT",
            "key_node": True,
            "storage_capacity": 100_000,
            "backlog": 95_000,
            "utilization": 0.95,
            "arrival_rate_per_min": 900.0,
            "departure_rate_per_min": 400.0,
            "net_inflow_per_min": 500.0,
            "time_to_overflow_s": 600.0,
            "in_transit_parcels": 3_000,
        },
        {
            "hub_id": "SORT",
            "arrival_rate_per_min": 150.0,
            "sorting_saturated": True,
            "saturation_ratio": 1.5,
        },
        {"hub_id": "QUIET", "silent_for_s": 1_500.0},
        {"hub_id": "GONE", "silent_for_s": 2_400.0},
    )
    states = hub_rules.classify(measures, CONFIG)
    frame = hub_rules.signals(states).vstack(network_signals(states, at=T0, config=CONFIG))
    immediate = RulePeriods(pending_s=0)
    alerts: dict[str, Alert] = {}
    for signal in signals_by_fingerprint(frame).values():
        alert, _ = start(signal, now=T0, periods=immediate, new_id=lambda: f"a{len(alerts)}")
        alerts.setdefault(f"{alert.rule}:{alert.subject}", alert)
    return alerts


ALERTS = _alerts_from_the_engine()

# (rule:subject, language, what the message must say)
EXPECTED: list[tuple[str, Lang, list[str]]] = [
    ("hub_overflow:HOT", "zh", ["利用率 95.0%", "积压 95,000 件", "库容 100,000 件",
                                "净流入 500 件/分钟", "预计爆仓 10 分钟", "在途 3,000 件"]),
    ("hub_overflow:HOT", "en", ["utilisation 95.0%", "backlog 95,000 parcels",
                                "net inflow 500 parcels/min", "time to overflow 10 min"]),
    ("hub_sorting_saturation:SORT", "zh", ["到件速率 150 件/分钟", "分拣能力 6,000 件/小时"]),
    ("hub_sorting_saturation:SORT", "en", ["arrivals 150 parcels/min",
                                           "sorting capacity 6,000 parcels/h"]),
    ("hub_silent:QUIET", "zh", ["已 25 分钟未上报数据", "中断时长 25 分钟", "积压 1,000 件"]),
    ("hub_silent:QUIET", "en", ["no data for 25 min", "silent for 25 min"]),
    ("hub_silent:GONE", "zh", ["中断时长 40 分钟"]),
    ("province_congestion:浙江", "zh", ["橙色及以上库容占比 76.9%", "橙色枢纽 1 个",
                                      "红色枢纽 1 个", "枢纽数 4 个"]),
    ("province_congestion:浙江", "en", ["capacity at orange+ 76.9%", "hubs 4 hubs"]),
    ("network_paralysis:CN", "zh", ["重要节点橙色及以上占比 100.0%", "原因 重要节点橙色及以上"]),
    ("network_paralysis:CN", "en", ["key-node capacity at orange+ 100.0%",
                                    "because key nodes at orange+"]),
    ("network_data_outage:CN", "zh", ["中断枢纽 2 个", "曾上报枢纽 4 个", "中断占比 50.0%"]),
    ("network_data_outage:CN", "en", ["hubs silent 2 hubs", "hubs reporting 4 hubs",
                                      "share silent 50.0%"]),
]  # fmt: skip


def _message(key: str, lang: Lang) -> str:
    return renderer(lang).markdown(single(item(1, ALERTS[key])), flavour="plain", max_bytes=20_000)


def test_the_engine_raises_every_rule_of_the_vocabulary() -> None:
    assert {key.split(":")[0] for key in ALERTS} == set(RULES)
    assert {key for key, _, _ in EXPECTED} == set(ALERTS)


@pytest.mark.parametrize(("key", "lang", "shown"), EXPECTED)
def test_each_message_shows_the_numbers_that_explain_its_rule(
    key: str, lang: Lang, shown: list[str]
) -> None:
    text = _message(key, lang)
    assert rule_name(key.split(":")[0], lang) in text
    for part in shown:
        assert part in text, f"{part!r} missing from:\n{text}"


@pytest.mark.parametrize(("key", "lang"), sorted({(key, lang) for key, lang, _ in EXPECTED}))
def test_no_message_shows_a_raw_key(key: str, lang: Lang) -> None:
    text = _message(key, lang)
    keys = {*VALUES, *ALERTS[key].values()}  # "backlog" is a key and its English label
    raw = [name for name in keys if "_" in name and name in text]
    assert raw == [], text
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), text


def test_messages_say_when_in_beijing_time() -> None:
    started: datetime = ALERTS["hub_silent:QUIET"].started_at
    assert started == T0
    assert "2026-11-11 20:00:00 (UTC+8)" in _message("hub_silent:QUIET", "zh")
