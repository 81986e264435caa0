"""Weather warnings through a running service: the regulator records one for a province, every
key reads it, the alerts of hubs in that province carry it and the others do not; carriers and
on-call cannot record one; bad input is a 422 naming the field; with the sensitivity rule on, a
key node under a red warning pages yellow where one elsewhere stays blue."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.service import Service, call, hub_line, wait_for

pytestmark = pytest.mark.integration

T0_MS = 1_794_326_400_000  # 2026-11-11 00:00 Beijing time
NO_PENDING = {
    "PEAKWATCH_ALERTING": json.dumps({"default_periods": {"pending_s": 0, "clear_s": 300}})
}
ROLES = ("regulator", "oncall", "carrier:ZTO")
BLIZZARD: dict[str, Any] = {
    "kind": "blizzard",
    "colour": "orange",
    "province": "黑龙江",
    "valid_from": "2026-11-10T20:00:00+08:00",
    "valid_to": "2026-11-12T08:00:00+08:00",
    "source": "黑龙江省气象台",
    "text": "全省大部有暴雪，局地大暴雪，部分高速公路封闭。",
}


def _arrivals(hub: str, carrier: str) -> list[dict[str, Any]]:
    return [
        {
            "event_id": f"{hub}-{i}",
            "carrier": carrier,
            "hub_id": hub,
            "ts": T0_MS + i * 60_000,
            "kind": "arrival",
            "parcels": 5_000,
        }
        for i in range(12)
    ]


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str
) -> Iterator[tuple[Service, dict[str, str]]]:
    """A service with an overflowing hub in 黑龙江 and one in 浙江, and a key per role."""
    from tests.support.service import make_service

    hubs = "\n".join(
        [
            hub_line("ZTO-HRB01", "ZTO", province="黑龙江", city="哈尔滨", storage_capacity=20_000),
            hub_line("YTO-HZ01", "YTO", province="浙江", city="杭州", storage_capacity=20_000),
        ]
    )
    service = make_service(
        tmp_path_factory.mktemp("warnings"), kafka_bootstrap, hubs, overrides=NO_PENDING
    )
    service.start()
    keys = {"admin": service.admin_key}
    for role in ROLES:
        response = call(service, service.admin_key, "POST", "/v1/api-keys", {"role": role})
        assert response.status_code == 201, response.text
        keys[role] = response.json()["key"]
    events = _arrivals("ZTO-HRB01", "ZTO") + _arrivals("YTO-HZ01", "YTO")
    posted = call(service, service.admin_key, "POST", "/v1/events", {"events": events})
    assert posted.json()["accepted"] == 24
    try:
        yield service, keys
    finally:
        service.kill()


def _firing_by_hub(service: Service) -> dict[str, dict[str, Any]]:
    alerts = call(service, service.admin_key, "GET", "/v1/alerts?state=firing&rule=hub_overflow")
    return {a["subject"]: a for a in alerts.json()["alerts"]}


def test_a_recorded_warning_is_read_by_every_key(world: tuple[Service, dict[str, str]]) -> None:
    service, keys = world
    response = call(service, keys["regulator"], "POST", "/v1/warnings", BLIZZARD)
    assert response.status_code == 201, response.text
    recorded = response.json()
    assert (recorded["kind_zh"], recorded["colour_zh"]) == ("暴雪", "橙色")
    assert recorded["recorded_by"].startswith("regulator:")
    for role in ("admin", *ROLES):
        listed = call(service, keys[role], "GET", "/v1/warnings?province=黑龙江").json()
        assert recorded["id"] in [w["id"] for w in listed["warnings"]], role
    assert call(service, None, "GET", "/v1/warnings").status_code == 401


@pytest.mark.parametrize("role", ["oncall", "carrier:ZTO"])
def test_only_regulators_and_admins_record_warnings(
    world: tuple[Service, dict[str, str]], role: str
) -> None:
    service, keys = world
    assert call(service, keys[role], "POST", "/v1/warnings", BLIZZARD).status_code == 403


def test_the_alerts_of_hubs_in_the_province_carry_it_and_no_others(
    world: tuple[Service, dict[str, str]],
) -> None:
    service, keys = world
    call(service, keys["regulator"], "POST", "/v1/warnings", {**BLIZZARD, "colour": "red"})
    firing = wait_for(
        lambda: (found := _firing_by_hub(service)).keys() >= {"ZTO-HRB01", "YTO-HZ01"} and found,
        what="an overflow alert on both hubs",
    )
    harbin = firing["ZTO-HRB01"]["warnings"]
    assert {(w["province"], w["kind"]) for w in harbin} == {("黑龙江", "blizzard")}
    assert harbin[0]["colour"] == "red"  # the worst colour first
    assert firing["YTO-HZ01"]["warnings"] == []
    own = call(service, keys["carrier:ZTO"], "GET", "/v1/alerts?state=firing").json()["alerts"]
    assert all(w["province"] == "黑龙江" for a in own for w in a["warnings"])


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"kind": "meteor"}, "kind", "blizzard"),
        ({"colour": "purple"}, "colour", "orange"),
        ({"valid_to": "2026-11-10T08:00:00+08:00"}, None, "valid_to must be after valid_from"),
        ({"valid_from": "2026-11-10T20:00:00"}, "valid_from", "timezone"),
        ({"province": "火星"}, "province", "no registered hub"),
        ({"city": "杭州"}, "city", "no registered hub"),
        ({"text": "雪" * 1_000_000}, "text", "2000"),
    ],
)
def test_bad_warnings_are_422_naming_the_field(
    world: tuple[Service, dict[str, str]], change: dict[str, Any], field: str | None, words: str
) -> None:
    service, keys = world
    response = call(service, keys["regulator"], "POST", "/v1/warnings", {**BLIZZARD, **change})
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == (["body", field] if field else ["body"])
    assert words in error["msg"]


def test_with_the_rule_on_a_key_node_under_a_red_warning_is_yellow_at_75_percent(
    service_factory: Any,
) -> None:
    hubs = "\n".join(
        hub_line(hub_id, carrier, province=province, key_node=True, storage_capacity=20_000)
        for hub_id, carrier, province in (
            ("ZTO-HRB01", "ZTO", "黑龙江"),
            ("YTO-HZ01", "YTO", "浙江"),
        )
    )
    risk = {"allowed_lateness_s": 0, "evaluation_step_s": 20}
    service = service_factory(
        hubs,
        overrides={
            **NO_PENDING,
            "PEAKWATCH_RISK": json.dumps({**risk, "warning_sensitivity": {"enabled": True}}),
        },
    )
    service.start()
    red = {**BLIZZARD, "colour": "red", "valid_to": "2099-01-01T00:00:00+08:00"}
    assert call(service, service.admin_key, "POST", "/v1/warnings", red).status_code == 201
    time.sleep(3)  # the replica reads the warnings every 2 s
    events = [
        {**_arrivals(hub_id, carrier)[0], "parcels": 15_000}  # 75 % full, nothing flowing
        for hub_id, carrier in (("ZTO-HRB01", "ZTO"), ("YTO-HZ01", "YTO"))
    ]
    assert (
        call(service, service.admin_key, "POST", "/v1/events", {"events": events}).json()[
            "accepted"
        ]
        == 2
    )
    levels = wait_for(
        lambda: (found := _firing_levels(service)).keys() >= {"ZTO-HRB01", "YTO-HZ01"} and found,
        what="an overflow alert on both key nodes",
        describe=lambda: _firing_levels(service),
    )
    assert levels == {"ZTO-HRB01": "yellow", "YTO-HZ01": "blue"}


def _firing_levels(service: Service) -> dict[str, str]:
    return {hub: alert["level"] for hub, alert in _firing_by_hub(service).items()}
