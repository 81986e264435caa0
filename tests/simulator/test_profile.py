from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from simulator.profile import (
    BEIJING_TZ,
    COLLECTION_TO_HUB_LAG_MIN,
    SORT_HOURS_PER_DAY,
    collection_factors,
    daily_level,
    epoch_minute,
    sort_shares,
)


def _collected(day: date, first_hour: int, hours: int) -> float:
    """Parcels collected (as a share of a hub's peak day) in Beijing hours of ``day``."""
    start = datetime(day.year, day.month, day.day, first_hour, tzinfo=BEIJING_TZ)
    minute = epoch_minute(start) + COLLECTION_TO_HUB_LAG_MIN
    return float(collection_factors(minute, hours * 60).sum())


def test_season_from_10_21_averages_118_to_125_percent_of_ordinary() -> None:
    season = [daily_level(date(2026, 10, 21) + timedelta(days=i)) for i in range(22)]

    assert 1.15 <= sum(season) / len(season) <= 1.28
    assert daily_level(date(2026, 10, 10)) == 1.0
    assert daily_level(date(2026, 12, 1)) == 1.0


def test_two_peaks_on_11_1_and_11_11_with_11_11_at_1_5x_ordinary() -> None:
    def level(month: int, day: int) -> float:
        return daily_level(date(2026, month, day))

    assert level(11, 11) == pytest.approx(1.5)
    assert level(11, 1) > max(level(10, 30), level(11, 3))
    assert level(11, 11) > max(level(11, 9), level(11, 13))


def test_79_percent_of_11_11_collections_are_in_by_21_00() -> None:
    day = date(2026, 11, 11)
    share = _collected(day, 0, 21) / _collected(day, 0, 24)

    assert share == pytest.approx(0.79, abs=0.03)


def test_the_11_11_midnight_surge_more_than_doubles_the_first_hour() -> None:
    surge = _collected(date(2026, 11, 11), 0, 1) / daily_level(date(2026, 11, 11))
    ordinary_night = _collected(date(2026, 11, 5), 0, 1) / daily_level(date(2026, 11, 5))

    assert surge > 2 * ordinary_night


def test_a_days_collections_match_its_level() -> None:
    peak_day = _collected(date(2026, 11, 11), 0, 24)
    ordinary = _collected(date(2026, 10, 14), 0, 24)

    assert peak_day == pytest.approx(1.0)
    assert ordinary == pytest.approx(1.0 / 1.5)


def test_sorting_is_night_heavy_within_about_20_usable_hours() -> None:
    def share_at(hour: int) -> float:
        moment = datetime(2026, 11, 11, hour, 30, tzinfo=BEIJING_TZ)
        return float(sort_shares(epoch_minute(moment), 1)[0])

    assert all(share_at(hour) == 1.0 for hour in (22, 23, 0, 3, 5))
    assert share_at(14) < 0.5
    assert 12 <= SORT_HOURS_PER_DAY <= 20
