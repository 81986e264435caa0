"""Routing: by level, province, carrier and rule; first match wins unless ``continue``."""

from __future__ import annotations

from alerts.config import AlertingConfig
from alerts.delivery.route import deliveries, escalations

CONFIG = AlertingConfig.from_mapping(
    {
        "receivers": [
            {"type": "webhook", "name": name, "url": f"http://x/{name}"}
            for name in ("zj-red", "zto", "network", "all", "lead")
        ],
        "routes": [
            {"match": {"rule": ["network_paralysis"]}, "receivers": ["network"]},
            {
                "match": {"province": ["浙江"]},
                "min_level": "red",
                "receivers": ["zj-red"],
                "continue": True,
                "escalations": [{"after_s": 600, "receivers": ["lead"]}],
            },
            {"match": {"carrier": ["ZTO"]}, "receivers": ["zto"], "group_by": ["rule", "province"]},
            {"receivers": ["all"], "group_wait_s": 30},
        ],
    }
)


def hub(level: str, province: str = "浙江", carrier: str = "ZTO") -> dict[str, str]:
    return {
        "rule": "hub_overflow",
        "scope": "hub",
        "subject": "H1",
        "level": level,
        "province": province,
        "carrier": carrier,
        "hub_id": "H1",
    }


def test_first_match_wins() -> None:
    network = {"rule": "network_paralysis", "scope": "network", "subject": "CN", "level": "red"}
    assert [d.receiver for d in deliveries(network, CONFIG.routes)] == ["network"]


def test_level_threshold_and_continue() -> None:
    assert [d.receiver for d in deliveries(hub("red"), CONFIG.routes)] == ["zj-red", "zto"]
    assert [d.receiver for d in deliveries(hub("orange"), CONFIG.routes)] == ["zto"]


def test_catch_all_takes_the_rest() -> None:
    routed = deliveries(hub("blue", province="江苏", carrier="YTO"), CONFIG.routes)
    assert [(d.receiver, d.group_wait_s) for d in routed] == [("all", 30)]


def test_group_key_follows_group_by() -> None:
    a = deliveries(hub("orange"), CONFIG.routes)[0]
    b = deliveries({**hub("orange"), "subject": "H2", "hub_id": "H2"}, CONFIG.routes)[0]
    assert a.group_key == b.group_key == "2|rule=hub_overflow|province=浙江"


def test_escalations_come_from_matching_routes_only() -> None:
    assert [e.receivers for e in escalations(hub("red"), CONFIG.routes)] == [("lead",)]
    assert escalations(hub("orange"), CONFIG.routes) == []
