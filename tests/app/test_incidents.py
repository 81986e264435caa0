"""Incidents and the duty roster through the real running service: a duty office uploads its
sheet, a hub going red opens an incident whose draft first report names the person on duty and
is due an hour later, the regulator submits it, carriers see only their own hubs' incidents and
never the roster, and a bad sheet is refused by line and field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from alerts.duty import BEIJING
from tests.support.service import Service, call, hub_line, wait_for

pytestmark = pytest.mark.integration

T0_MS = 1_794_326_400_000  # 2026-11-11 00:00 Beijing time
NO_PENDING = {
    "PEAKWATCH_ALERTING": json.dumps({"default_periods": {"pending_s": 0, "clear_s": 300}})
}
SHEET = (
    "日期,班次,省份,值班人员,带班领导,电话,邮箱,钉钉\n"
    "2026-11-11,全天,浙江,王伟,李强,13800000001,wangwei@post.example,ding-wangwei\n"
    "{today},全天,浙江,赵敏,李强,13800000002,zhaomin@post.example,\n"
    "{today},全天,全国,陈静,周国栋,13800000003,chenjing@post.example,\n"
)


def _event(i: int, hub: str, carrier: str) -> dict[str, Any]:
    return {
        "event_id": f"{hub}-{i}",
        "carrier": carrier,
        "hub_id": hub,
        "ts": T0_MS + i * 60_000,
        "kind": "arrival",
        "parcels": 5_000,
    }


def _put_sheet(service: Service, key: str, sheet: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "text/csv"}
    with httpx.Client(base_url=service.url, headers=headers, timeout=30) as client:
        return client.put("/v1/duty", content=sheet.encode())


def _incidents(service: Service, key: str) -> list[dict[str, Any]]:
    response = call(service, key, "GET", "/v1/incidents")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["incidents"]
    return found


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str
) -> Iterator[tuple[Service, dict[str, str], datetime]]:
    """A service with a roster, two carriers' hubs gone red, and a key per role."""
    from tests.support.service import make_service

    hubs = "\n".join(
        [
            hub_line("ZTO-HZ01", "ZTO", storage_capacity=20_000),
            hub_line("YTO-SH01", "YTO", province="上海", storage_capacity=20_000),
        ]
    )
    service = make_service(
        tmp_path_factory.mktemp("incidents"), kafka_bootstrap, hubs, overrides=NO_PENDING
    )
    service.start()
    keys = {"admin": service.admin_key}
    try:
        for role in ("regulator", "oncall", "carrier:ZTO", "carrier:YTO"):
            response = call(service, service.admin_key, "POST", "/v1/api-keys", {"role": role})
            keys[role] = response.json()["key"]
        today = datetime.now(BEIJING).date().isoformat()
        stored = _put_sheet(service, keys["regulator"], SHEET.format(today=today))
        assert stored.status_code == 200, stored.text
        posted_at = datetime.now(UTC)
        hubs_of = (("ZTO-HZ01", "ZTO"), ("YTO-SH01", "YTO"))
        events = [_event(i, hub, carrier) for i in range(12) for hub, carrier in hubs_of]
        body = {"events": events}
        assert call(service, service.admin_key, "POST", "/v1/events", body).json()["accepted"] == 24
        wait_for(
            lambda: (
                {"ZTO-HZ01", "YTO-SH01"}
                <= {i["subject"] for i in _incidents(service, keys["regulator"])}
            ),
            timeout_s=60,
            what="an incident on each red hub",
            describe=lambda: call(service, keys["regulator"], "GET", "/v1/alerts").text,
        )
        yield service, keys, posted_at
    finally:
        service.kill()


def test_a_red_hub_opens_an_incident_with_a_first_report_due_in_an_hour(
    world: tuple[Service, dict[str, str], datetime],
) -> None:
    service, keys, posted_at = world
    incident = next(i for i in _incidents(service, keys["regulator"]) if i["subject"] == "ZTO-HZ01")
    assert (incident["scope"], incident["level"], incident["state"]) == ("hub", "red", "open")
    assert incident["opened_at"].startswith("2026-11-10T16:")  # event time, not wall time
    (first,) = incident["reports"]
    assert first["kind"] == "first"
    assert first["submitted_at"] is None
    due = datetime.fromisoformat(first["due_at"])
    assert posted_at + timedelta(minutes=59) < due < datetime.now(UTC) + timedelta(hours=1)
    assert first["draft_text"].startswith("【突发事件信息首报】2026年11月11日00时")
    assert "浙江 ZTO ZTO-HZ01 转运中心" in first["draft_text"]
    assert "处置负责人：王伟（值班人员，电话 13800000001）" in first["draft_text"]
    assert first["draft_fields"]["handler"]["person"] == "王伟"


def test_the_regulator_submits_a_report_and_the_history_reads(
    world: tuple[Service, dict[str, str], datetime],
) -> None:
    service, keys, _ = world
    incident = next(i for i in _incidents(service, keys["regulator"]) if i["subject"] == "YTO-SH01")
    path = f"/v1/incidents/{incident['id']}/reports"
    wrong = call(service, keys["regulator"], "POST", path, {"fields": {"weather": "暴雪"}})
    assert wrong.status_code == 422
    (error,) = wrong.json()["detail"]
    assert error["loc"] == ["body", "fields", "weather"]
    assert error["msg"].startswith("not a report field")
    body = {"kind": "first", "fields": {"measures": ["加开班车 2 班"], "city": "上海"}}
    for role in ("carrier:YTO", "oncall"):
        assert call(service, keys[role], "POST", path, body).status_code == 403
    done = call(service, keys["regulator"], "POST", path, body)
    assert done.status_code == 200, done.text
    (first,) = done.json()["reports"]
    assert first["submitted_by"].startswith("regulator:")
    assert first["fields"]["measures"] == ["加开班车 2 班"]
    assert first["text"] == first["draft_text"]
    assert call(service, keys["regulator"], "POST", path, body).status_code == 409
    history = call(service, keys["regulator"], "GET", f"/v1/incidents/{incident['id']}/history")
    assert [e["what"] for e in history.json()["entries"]] == [
        "爆仓风险预警立案",
        "生成首报草稿（红色(I级)）",
        "首报已报送",
    ]


def test_carriers_see_only_their_own_hubs_incidents(
    world: tuple[Service, dict[str, str], datetime],
) -> None:
    service, keys, _ = world
    zto = _incidents(service, keys["carrier:ZTO"])
    yto = _incidents(service, keys["carrier:YTO"])
    assert {i["subject"] for i in zto} == {"ZTO-HZ01"}
    assert {i["subject"] for i in yto} == {"YTO-SH01"}
    other = yto[0]["id"]
    assert call(service, keys["carrier:ZTO"], "GET", f"/v1/incidents/{other}").status_code == 404
    path = f"/v1/incidents/{other}/history"
    assert call(service, keys["carrier:ZTO"], "GET", path).status_code == 404


def test_who_is_on_duty_now_and_the_national_fallback(
    world: tuple[Service, dict[str, str], datetime],
) -> None:
    service, keys, _ = world
    at = "2026-11-11T09:00:00%2B08:00"
    then = call(service, keys["oncall"], "GET", f"/v1/duty/now?province=浙江&at={at}").json()
    assert (then["duty"]["person"], then["leader"]["person"]) == ("王伟", "李强")
    assert then["duty"]["dingtalk_id"] == "ding-wangwei"
    now = call(service, keys["regulator"], "GET", "/v1/duty/now?province=浙江").json()
    assert now["duty"]["person"] == "赵敏"
    elsewhere = call(service, keys["regulator"], "GET", "/v1/duty/now?province=上海").json()
    assert (elsewhere["duty"]["person"], elsewhere["duty_from"]) == ("陈静", "CN")
    for role in ("carrier:ZTO", "carrier:YTO"):
        assert call(service, keys[role], "GET", "/v1/duty/now?province=浙江").status_code == 403
        assert call(service, keys[role], "GET", "/v1/duty").status_code == 403
    assert _put_sheet(service, keys["oncall"], SHEET).status_code == 403


def test_a_bad_sheet_is_refused_by_line_and_field_and_the_old_roster_stays(
    world: tuple[Service, dict[str, str], datetime],
) -> None:
    service, keys, _ = world
    bad = (
        "日期,班次,省份,值班人员,邮箱\n"
        "2026-11-12,白班,浙江,孙丽,sunli@post.example\n"
        "2026-11-31,白班,浙江,周杰,x\n"
    )
    refused = _put_sheet(service, keys["regulator"], bad)
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert detail.startswith("line 3, 日期/date: '2026-11-31' is not YYYY-MM-DD")
    roster = call(service, keys["regulator"], "GET", "/v1/duty").json()["shifts"]
    assert "王伟" in {s["person"] for s in roster}
    at = "2026-11-12T08:00:00+08:00"
    as_json = {"shifts": [{"person": "甲", "province": "浙江", "starts_at": at, "ends_at": at}]}
    refused = call(service, keys["admin"], "PUT", "/v1/duty", as_json)
    assert refused.status_code == 422
    assert "shifts[0]" in refused.json()["detail"]
    assert "ends_at must be after starts_at" in refused.json()["detail"]
