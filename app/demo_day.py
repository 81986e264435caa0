"""The regulator's working day in ``make demo``: a duty roster, one weather warning and one
courier mitigation, stored through the service's own API before the simulation starts.

Everything is in the simulated night's event time (the double11 scenario starts 2026-11-10
20:00 Beijing time), so the warning and the measure are in force while its alerts fire, and the
daily report of 11.11 lists them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx

from simulator.profile import BEIJING_TZ
from simulator.scenarios import SCENARIOS

SCENARIO = "double11"
WARNING_PROVINCES = (
    "黑龙江",
    "吉林",
    "辽宁",
    "内蒙古",
    "河北",
    "北京",
)  # snow comes from the north


@dataclass(frozen=True)
class DemoDay:
    """What the demo stored, for the lines it prints."""

    report_date: date
    warning_province: str
    mitigation_hub: str
    duty_rows: int


def _hubs(hubs_file: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in hubs_file.read_text().splitlines() if line.strip()]


def roster_csv(provinces: list[str], night: date) -> str:
    """A duty office's sheet: the national office and each province, night and day shifts."""
    lines = ["日期,班次,省份,值班人员,带班领导,电话,邮箱"]
    people = [("全国", "国家局值班室 王敏", "李建国")]
    people += [(p, f"{p}省局值班员 {i + 1}号", f"{p}省局带班领导") for i, p in enumerate(provinces)]
    for day in (night, night + timedelta(days=1)):
        for shift in ("夜班", "白班"):
            for n, (province, person, leader) in enumerate(people):
                phone = f"1380000{n:04d}"
                lines.append(
                    f"{day},{shift},{province},{person},{leader},{phone},duty{n}@demo.invalid"
                )
    return "\n".join(lines) + "\n"


def seed(url: str, keys: dict[str, str], hubs_file: Path) -> DemoDay:
    """Store the roster (regulator), a 暴雪 orange warning (regulator) and a 加开班车 measure
    (the carrier of the first key node); raise if the service refuses any of them."""
    start = SCENARIOS[SCENARIO].start.astimezone(BEIJING_TZ)
    hubs = _hubs(hubs_file)
    provinces = sorted({str(h["province"]) for h in hubs})
    warned = next((p for p in WARNING_PROVINCES if p in provinces), provinces[0])
    key_hub = next(h for h in hubs if h.get("key_node"))
    carrier = str(key_hub["carrier"])

    def client(role: str) -> httpx.Client:
        auth = {"Authorization": f"Bearer {keys[role]}"}
        return httpx.Client(base_url=url, headers=auth, timeout=10)

    roster = roster_csv(
        provinces[:3] + ([warned] if warned not in provinces[:3] else []), start.date()
    )
    with client("REGULATOR") as http:
        stored = http.put("/v1/duty", content=roster, headers={"Content-Type": "text/csv"})
        stored.raise_for_status()
        warning = {
            "kind": "blizzard",
            "colour": "orange",
            "province": warned,
            "valid_from": start.isoformat(),
            "valid_to": (start + timedelta(hours=24)).isoformat(),
            "source": "中央气象台 (demo)",
            "text": f"{warned}大部地区有暴雪，局地大暴雪，道路结冰，干线运输受阻。",
        }
        http.post("/v1/warnings", json=warning).raise_for_status()
    with client(f"CARRIER_{carrier}") as http:
        measure = {
            "hub_id": key_hub["hub_id"],
            "kind": "extra_trucks",
            "starts_at": (start + timedelta(hours=3)).isoformat(),
            "planned_end_at": (start + timedelta(hours=12)).isoformat(),
            "expected_effect": "出港能力提升约30% / outbound capacity up about 30 %",
            "note": "双11零点高峰加开干线班车 / extra line-haul trucks for the midnight surge",
        }
        http.post("/v1/mitigations", json=measure).raise_for_status()
    report_day = (start + timedelta(hours=4)).date()  # the night runs into 11.11
    return DemoDay(report_day, warned, str(key_hub["hub_id"]), roster.count("\n") - 1)


def report_url(url: str, day: date) -> str:
    """Where the day's printable report is (it needs a regulator's key as Bearer)."""
    return f"{url}/v1/reports/daily?date={day.isoformat()}&format=html"


def describe(day: DemoDay) -> list[str]:
    """The lines ``make demo`` prints about the regulator's day."""
    return [
        f"Duty roster: {day.duty_rows} shifts stored (GET /v1/duty/now?province=…)",
        f"Warning:     暴雪 orange over {day.warning_province} (GET /v1/warnings)",
        f"Mitigation:  加开班车 at {day.mitigation_hub} (GET /v1/mitigations)",
    ]
