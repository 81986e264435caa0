"""What the board's fast browser tests are fed, built only through the API's own models.

Hubs are ``HubState``s, the national and province views are ``core.rollups`` of those hubs put
through ``NetworkStatus``/``ProvinceStatus``, alerts are ``AlertOut``s and stream messages
``AlertChangeOut``s: a field renamed or dropped in the API fails here, not on the duty-room wall.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl

from alerts.schemas import AlertChangeOut, AlertOut
from app.api.models.hubs import HubPage, HubState
from app.api.models.network import NetworkStatus, ProvinceStatus
from core.engine import HUB_STATE_SCHEMA
from core.levels import Level
from core.rollups import national_rollup, province_rollup

WATERMARK = datetime(2025, 11, 11, 6, 5, tzinfo=UTC)

# (province, city, city code, lat, lon) of sorting centres spread over the country
CITIES = [
    ("浙江", "杭州", "HZ", 30.27, 120.15),
    ("浙江", "义乌", "YW", 29.31, 120.08),
    ("浙江", "金华", "JH", 29.08, 119.65),
    ("上海", "上海", "SH", 31.23, 121.47),
    ("江苏", "苏州", "SU", 31.30, 120.58),
    ("江苏", "南京", "NJ", 32.06, 118.80),
    ("广东", "广州", "GZ", 23.13, 113.26),
    ("广东", "深圳", "SZ", 22.54, 114.06),
    ("广东", "东莞", "DG", 23.02, 113.75),
    ("北京", "北京", "BJ", 39.90, 116.40),
    ("天津", "天津", "TJ", 39.13, 117.20),
    ("河北", "石家庄", "SJZ", 38.04, 114.51),
    ("山东", "济南", "JN", 36.65, 117.12),
    ("山东", "临沂", "LY", 35.10, 118.36),
    ("河南", "郑州", "ZZ", 34.75, 113.62),
    ("湖北", "武汉", "WH", 30.59, 114.31),
    ("湖南", "长沙", "CS", 28.23, 112.94),
    ("四川", "成都", "CD", 30.57, 104.07),
    ("重庆", "重庆", "CQ", 29.56, 106.55),
    ("陕西", "西安", "XA", 34.34, 108.94),
    ("福建", "厦门", "XM", 24.48, 118.09),
    ("安徽", "合肥", "HF", 31.82, 117.23),
    ("辽宁", "沈阳", "SY", 41.80, 123.43),
    ("黑龙江", "哈尔滨", "HRB", 45.80, 126.53),
    ("云南", "昆明", "KM", 24.88, 102.83),
    ("新疆", "乌鲁木齐", "WLMQ", 43.83, 87.62),
    ("西藏", "拉萨", "LS", 29.65, 91.17),
    ("海南", "海口", "HK", 20.04, 110.20),
]
CARRIERS = [("ZTO", "中通"), ("YTO", "圆通"), ("YUNDA", "韵达"), ("STO", "申通")]
# the hubs in trouble, by id: level, utilization, seconds to overflow
TROUBLE: dict[str, tuple[Level, float, float | None]] = {
    "ZTO-HZ01": ("red", 1.04, None),
    "YUNDA-YW01": ("red", 0.97, 480.0),
    "STO-JH01": ("orange", 0.91, 2400.0),
    "YTO-GZ01": ("orange", 0.86, 3300.0),
    "ZTO-SZ01": ("yellow", 0.81, 9000.0),
    "STO-LY01": ("yellow", 0.74, 7200.0),
    "YTO-SH01": ("blue", 0.72, None),
    "ZTO-WH01": ("blue", 0.71, 20000.0),
}
NOT_REPORTING = ("拉萨", "乌鲁木齐")  # far west: registered, not heard from yet


def _hub(province: str, city: str, code: str, lat: float, lon: float, index: int) -> HubState:
    carrier, carrier_zh = CARRIERS[index]
    hub_id = f"{carrier}-{code}01"
    capacity = 400_000 if city in ("杭州", "义乌", "广州", "上海") else 150_000
    level, utilization, eta = TROUBLE.get(hub_id, ("none", 0.35 + 0.05 * index, None))
    heard = city not in NOT_REPORTING
    backlog = round(utilization * capacity) if heard else None
    return HubState(
        hub_id=hub_id,
        carrier=carrier,
        name=f"{carrier_zh}{city}转运中心",
        province=province,
        city=city,
        lat=lat + 0.08 * index,
        lon=lon + 0.08 * index,
        tier="national" if capacity > 200_000 else "regional",
        storage_capacity=capacity,
        sort_capacity_per_hour=capacity // 2,
        key_node=capacity > 200_000,
        arrivals_total=2_000_000 if heard else 0,
        departures_total=1_800_000 if heard else 0,
        backlog=backlog,
        utilization=utilization if heard else None,
        arrival_rate_per_min=3700.0 if heard else None,
        departure_rate_per_min=2700.0 if heard else None,
        net_inflow_per_min=1000.0 if heard else None,
        in_transit_parcels=20_000 if heard else None,
        time_to_overflow_s=eta,
        sorting_saturated=False if heard else None,
        saturation_ratio=0.6 if heard else None,
        arrivals_30m=111_000 if heard else 0,
        departures_30m=81_000 if heard else 0,
        last_event_at=WATERMARK if heard else None,
        silent_for_s=0.0 if heard else None,
        overflow_level=level if heard else "unknown",
        saturation_level="none" if heard else "unknown",
        silent_level="none" if heard else "unknown",
        level=level if heard else "unknown",
        at=WATERMARK,
    )


def make_hubs() -> list[HubState]:
    """One hub per city and carrier; a few in trouble, the far-west ones not reporting yet."""
    return [
        _hub(province, city, code, lat, lon, index)
        for province, city, code, lat, lon in CITIES
        for index in range(len(CARRIERS))
    ]


def hub_frame(hubs: list[HubState]) -> pl.DataFrame:
    """The hubs as the runtime holds them (``HUB_STATE_SCHEMA``), for the real roll-ups."""
    return pl.DataFrame([hub.model_dump() for hub in hubs], schema=HUB_STATE_SCHEMA)


def network_status(hubs: list[HubState], level: str) -> NetworkStatus:
    """``/v1/network`` over ``hubs``, as the route builds it."""
    rollup = national_rollup(hub_frame(hubs))
    return NetworkStatus(**rollup, view="national", watermark=WATERMARK.isoformat(), level=level)


def province_statuses(hubs: list[HubState]) -> list[ProvinceStatus]:
    """``/v1/provinces`` over ``hubs``, worst first."""
    return [
        ProvinceStatus.model_validate(row) for row in province_rollup(hub_frame(hubs)).to_dicts()
    ]


def hub_page(hubs: list[HubState], limit: int, offset: int) -> dict[str, Any]:
    """One ``/v1/hubs`` page as JSON."""
    page = HubPage(total=len(hubs), limit=limit, offset=offset, hubs=hubs[offset : offset + limit])
    return page.model_dump(mode="json")


def alert(alert_id: str, hub: HubState, level: Level, summary: str, summary_en: str) -> AlertOut:
    """A firing hub_overflow alert of ``hub``."""
    return AlertOut(
        id=alert_id,
        fingerprint=f"fp-{hub.hub_id}",
        rule="hub_overflow",
        scope="hub",
        subject=hub.hub_id,
        level=level,
        state="firing",
        started_at=datetime(2025, 11, 11, 5, 52, tzinfo=UTC),
        fired_at=datetime(2025, 11, 11, 5, 54, tzinfo=UTC),
        resolved_at=None,
        labels={"hub_id": hub.hub_id, "carrier": hub.carrier, "province": hub.province},
        summary=summary,
        summary_en=summary_en,
        values={"utilization": hub.utilization, "time_to_overflow_s": hub.time_to_overflow_s},
        acked_by=None,
        acked_at=None,
    )


def change(event_id: int, kind: str, changed: AlertOut) -> str:
    """One alert change as the stream sends it (``data`` of a server-sent event)."""
    return AlertChangeOut(
        event_id=event_id,
        kind=kind,
        at=datetime(2025, 11, 11, 6, 6, tzinfo=UTC),
        previous_level=None,
        actor=None,
        alert=changed,
    ).model_dump_json()
