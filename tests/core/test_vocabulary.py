"""The vocabulary covers every rule, value key and reason code the core produces, and writes each
value in its unit."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from core.signals import RULES as SIGNAL_RULES
from core.vocabulary import RULES, VALUES, RejectReason, format_value
from tests.alerts.notify.test_texts import ALERTS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_key_the_rules_write_is_in_the_vocabulary() -> None:
    written = {key for made in ALERTS.values() for key in json.loads(made.values_json)}
    assert written <= set(VALUES)
    for term in RULES.values():
        assert set(term.shown) <= set(VALUES), term.id
    assert set(SIGNAL_RULES) == set(RULES)


@pytest.mark.parametrize(
    ("key", "value", "zh", "en"),
    [
        ("utilization", 0.934, "93.4%", "93.4%"),
        ("backlog", 12_345, "12,345 件", "12,345 parcels"),
        ("silent_for_s", 1_500, "25 分钟", "25 min"),
        ("silent_for_s", 40, "40 秒", "40 s"),
        ("time_to_overflow_s", 7_500, "2 小时 5 分钟", "2 h 5 min"),
        ("time_to_overflow_s", None, "—", "—"),
        ("net_inflow_per_min", 4.2, "4 件/分钟", "4 parcels/min"),
        ("sort_capacity_per_hour", 6_000, "6,000 件/小时", "6,000 parcels/h"),
        ("departure_arrival_ratio", 0.553, "0.55", "0.55"),
        ("hubs_silent", 3, "3 个", "3 hubs"),
        ("reasons", ["key_nodes_silent"], "重要节点数据中断", "key nodes silent"),
    ],
)
def test_each_value_is_written_in_its_unit(key: str, value: object, zh: str, en: str) -> None:
    assert format_value(key, value, "zh") == zh
    assert format_value(key, value, "en") == en


def test_an_unknown_key_is_an_error_not_raw_text() -> None:
    with pytest.raises(KeyError):
        format_value("backlog_parcels", 1, "zh")


def test_the_reason_codes_are_those_the_docs_explain() -> None:
    table = (DOCS / "events.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE))
    assert {code.value for code in RejectReason} - {"processing_error"} <= documented
    runbook = (DOCS / "operations.md").read_text(encoding="utf-8")
    for code in RejectReason:
        if code not in (RejectReason.PROCESSING_ERROR,):
            assert f"`{code.value}`" in runbook, code
