"""Which measures and warnings an alert carries, and what an ended measure did (pure)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from alerts.measures import (
    ExternalWarning,
    Mitigation,
    Sample,
    mitigation_effect,
    mitigations_for,
    series_samples,
    warnings_for,
)
from alerts.notify.base import Notification
from tests.alerts.factories import alert, item, renderer, single

T0 = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class _Alert:
    scope: str = "hub"
    hub_id: str | None = "ZTO-HZ01"
    province: str | None = "浙江"
    started_at: datetime = T0
    resolved_at: datetime | None = None


def _mitigation(
    hub_id: str = "ZTO-HZ01",
    *,
    starts_at: datetime = T0 - HOUR,
    ended_at: datetime | None = None,
    id: int = 1,
) -> Mitigation:
    return Mitigation(
        id=id,
        hub_id=hub_id,
        carrier=hub_id.split("-")[0],
        kind="throttle",
        starts_at=starts_at,
        planned_end_at=starts_at + 4 * HOUR,
        ended_at=ended_at,
        expected_effect="进港量减少三成",
        note="",
        declared_by="carrier:ZTO",
        declared_at=starts_at,
    )


def _warning(
    province: str = "浙江",
    *,
    city: str | None = None,
    colour: str = "orange",
    valid_from: datetime = T0 - HOUR,
    valid_to: datetime = T0 + HOUR,
    id: int = 1,
) -> ExternalWarning:
    return ExternalWarning(
        id=id,
        kind="typhoon",
        colour=colour,  # type: ignore[arg-type]
        province=province,
        city=city,
        valid_from=valid_from,
        valid_to=valid_to,
        source="浙江省气象台",
        text="台风橙色预警",
        recorded_by="regulator:k1",
        recorded_at=valid_from,
    )


def test_a_hub_alert_carries_the_measures_of_its_hub_in_force_during_it() -> None:
    own = _mitigation(id=1)
    other_hub = _mitigation("YTO-SH01", id=2)
    ended_before = _mitigation(starts_at=T0 - 3 * HOUR, ended_at=T0 - 2 * HOUR, id=3)
    later = _mitigation(starts_at=T0 + 2 * HOUR, id=4)
    alert = _Alert(resolved_at=T0 + HOUR)
    assert mitigations_for(alert, [later, own, other_hub, ended_before]) == [own]


def test_a_measure_begun_while_an_open_alert_fires_is_carried() -> None:
    later = _mitigation(starts_at=T0 + 2 * HOUR)
    assert mitigations_for(_Alert(), [later]) == [later]


def test_a_measure_never_ended_stops_counting_at_its_planned_end() -> None:
    forgotten = _mitigation(starts_at=T0 - 6 * HOUR)  # planned to end 4 h after its start
    assert mitigations_for(_Alert(), [forgotten]) == []
    assert forgotten.active_at(T0 - 3 * HOUR)
    assert not forgotten.active_at(T0)


@pytest.mark.parametrize("scope", ["province", "network", "carrier"])
def test_only_hub_alerts_carry_measures(scope: str) -> None:
    assert mitigations_for(_Alert(scope=scope, hub_id=None), [_mitigation()]) == []


def test_a_province_warning_applies_to_its_hubs_and_not_elsewhere() -> None:
    zhejiang, shanghai = _warning(id=1), _warning("上海", id=2)
    assert warnings_for(_Alert(), [zhejiang, shanghai], hub_city="杭州") == [zhejiang]
    assert warnings_for(_Alert(province="江苏"), [zhejiang, shanghai]) == []


def test_a_city_warning_applies_to_hubs_of_that_city_only() -> None:
    ningbo = _warning(city="宁波")
    assert warnings_for(_Alert(), [ningbo], hub_city="宁波") == [ningbo]
    assert warnings_for(_Alert(), [ningbo], hub_city="杭州") == []
    assert warnings_for(_Alert(scope="province", hub_id=None), [ningbo]) == []


def test_a_warning_counts_only_when_valid_during_the_alert() -> None:
    expired = _warning(valid_from=T0 - 3 * HOUR, valid_to=T0 - HOUR, id=1)
    upcoming = _warning(valid_from=T0 + 2 * HOUR, valid_to=T0 + 3 * HOUR, id=2)
    closed = _Alert(resolved_at=T0 + HOUR)
    assert warnings_for(closed, [expired, upcoming]) == []
    assert warnings_for(_Alert(), [expired, upcoming]) == [upcoming]  # still firing then


def test_worse_warning_colours_come_first() -> None:
    yellow, red = _warning(colour="yellow", id=1), _warning(colour="red", id=2)
    assert warnings_for(_Alert(), [yellow, red]) == [red, yellow]


def test_a_measure_that_slowed_the_inflow_improved_both() -> None:
    samples = [
        Sample(T0 - 10 * timedelta(minutes=1), 900.0, 3600.0),
        Sample(T0 + HOUR, 200.0, 14_400.0),
        Sample(T0 + 3 * HOUR, 950.0, 1800.0),  # after the end: not counted
    ]
    effect = mitigation_effect(samples, starts_at=T0, ended_at=T0 + 2 * HOUR)
    assert (effect.net_inflow_before_per_min, effect.net_inflow_after_per_min) == (900.0, 200.0)
    assert effect.net_inflow_improved is True
    assert effect.time_to_overflow_improved is True


def test_no_overflow_expected_any_more_is_an_improvement() -> None:
    samples = [Sample(T0, 500.0, 3600.0), Sample(T0 + HOUR, -100.0, None)]
    effect = mitigation_effect(samples, starts_at=T0, ended_at=T0 + HOUR)
    assert effect.time_to_overflow_improved is True
    assert effect.net_inflow_improved is True


def test_a_measure_that_did_not_help_says_so() -> None:
    samples = [Sample(T0, 300.0, 7200.0), Sample(T0 + HOUR, 600.0, 3000.0)]
    effect = mitigation_effect(samples, starts_at=T0, ended_at=T0 + HOUR)
    assert (effect.net_inflow_improved, effect.time_to_overflow_improved) == (False, False)


def test_without_numbers_on_both_sides_the_effect_is_unknown() -> None:
    effect = mitigation_effect([Sample(T0 + HOUR, 100.0, None)], starts_at=T0, ended_at=T0 + HOUR)
    assert effect.net_inflow_before_per_min is None
    assert (effect.net_inflow_improved, effect.time_to_overflow_improved) == (None, None)


def test_samples_from_the_hub_series_average_the_inflow_and_project_the_overflow() -> None:
    minute = timedelta(minutes=1)
    series = [(T0, 100, 40, 1000), (T0 + minute, 100, 20, 1080)]
    first, second = series_samples(series, storage_capacity=2000, window_min=2)
    assert (first.net_inflow_per_min, first.time_to_overflow_s) == (60.0, 1000 / 60 * 60)
    assert second.net_inflow_per_min == 70.0
    assert second.time_to_overflow_s == pytest.approx((2000 - 1080) / 70 * 60)
    draining = series_samples([(T0, 10, 50, 500)], storage_capacity=2000)
    assert draining[0].time_to_overflow_s is None


def test_the_message_of_a_hub_alert_shows_its_measure_and_warning_in_both_languages() -> None:
    ended = replace(
        _mitigation(ended_at=T0 + HOUR),
        effect=mitigation_effect(
            [Sample(T0 - 2 * HOUR, 900.0, 3600.0), Sample(T0, 200.0, None)],
            starts_at=T0 - HOUR,
            ended_at=T0 + HOUR,
        ),
    )
    shown = replace(item(1, alert("ZTO-HZ01")), mitigations=(ended,), warnings=(_warning(),))
    zh = renderer("zh").markdown(single(shown), flavour="dingtalk", max_bytes=20_000)
    en = renderer("en").markdown(single(shown), flavour="plain", max_bytes=20_000)
    assert "处置措施" in zh
    assert "限流（ZTO）11-11 19:00 起" in zh
    assert "净流入 900→200 件/分，已改善；爆仓时间 60→无 分钟，已改善" in zh
    assert "浙江 台风橙色预警 11-11 19:00–11-11 21:00（浙江省气象台）" in zh
    assert "throttling intake (ZTO) from 11-11 19:00" in en
    assert "net inflow 900→200 parcels/min, improved" in en
    assert "typhoon warning, orange" in en


def test_a_message_without_measures_or_warnings_has_no_such_lines() -> None:
    zh = renderer("zh").markdown(
        single(item(1, alert("ZTO-HZ01"))), flavour="plain", max_bytes=9999
    )
    assert "处置措施" not in zh
    assert "预警信息" not in zh


def test_a_digest_line_names_the_measure_and_the_warning() -> None:
    shown = replace(
        item(1, alert("ZTO-HZ01")), mitigations=(_mitigation(),), warnings=(_warning(),)
    )
    digest = Notification(receiver="ding", group_key="g", items=(shown,), digest="network")
    zh = renderer("zh").markdown(digest, flavour="plain", max_bytes=20_000)
    en = renderer("en").markdown(digest, flavour="plain", max_bytes=20_000)
    assert " · 处置措施: 限流 · 预警: 台风橙色" in zh
    assert " · measures: throttling intake · warnings: typhoon orange" in en
