"""The time profile of the Double-11 season: how much is collected when, and when hubs sort.

Times are whole minutes since the Unix epoch (UTC); the profile itself runs on Beijing time
(UTC+8), as the whole network does. Every number is calibrated in docs/simulator.md.

    daily_level(day)                 national collections that day / an ordinary day
    collection_factors(start, n)     per minute: share of a hub's peak-day collections arriving
    sort_shares(start, n)            per minute: share of rated sorting capacity in use
    SORT_HOURS_PER_DAY               effective full-capacity sorting hours in a day (15.6)
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache

import numpy as np
import numpy.typing as npt

BEIJING_OFFSET_MIN = 8 * 60
BEIJING_TZ = timezone(timedelta(minutes=BEIJING_OFFSET_MIN), "CST")
MINUTES_PER_DAY = 24 * 60

# (month, day) -> national collections / ordinary day. Between anchors: linear.
# Season from 10.21 (since 2024), peaks on 11.1 and 11.11 (two peaks since 2021), tail to 11.20.
_SEASON_ANCHORS: tuple[tuple[int, int, float], ...] = (
    (10, 20, 1.00),
    (10, 21, 1.30),
    (10, 22, 1.45),  # 2024: the season's record day was 10.22
    (10, 23, 1.30),
    (10, 26, 1.12),
    (10, 30, 1.12),
    (10, 31, 1.22),
    (11, 1, 1.35),
    (11, 2, 1.25),
    (11, 4, 1.10),
    (11, 8, 1.10),
    (11, 10, 1.28),
    (11, 11, 1.50),  # 2024: 11.11 at 1.51x an ordinary day
    (11, 12, 1.42),
    (11, 13, 1.30),
    (11, 15, 1.15),
    (11, 20, 1.00),
)
PEAK_LEVEL = 1.50
"""``daily_level`` on 11.11: hub volumes in the registry are sized for this day."""

# Collections (揽收) by Beijing hour, relative weights; builds through the day, evening-heavy.
_COLLECTION_BY_HOUR = np.array(
    [
        *(2.0, 1.5, 1.0, 1.0, 1.0, 1.5, 2.0, 3.0, 4.0, 4.5, 5.0, 5.5),  # 00-11
        *(5.5, 6.0, 6.0, 6.0, 6.5, 6.5, 6.5, 7.0, 7.5, 10.0, 12.0, 10.0),  # 12-23
    ]
)
# Extra collections right after midnight when presold goods ship (11.11; smaller on 11.1).
_MIDNIGHT_SURGE = {(11, 11): 30.0, (11, 1): 12.0}
_SURGE_DECAY_MIN = 40.0
COLLECTION_TO_HUB_LAG_MIN = 60
"""Outlet vans bring collected parcels to their first hub about an hour later (estimate)."""

# Share of rated sorting capacity in use by Beijing hour: the full night shift runs 22:00-06:00,
# day shifts run part of the lines (estimate; about 15.6 full-capacity hours a day).
_SORT_BY_HOUR = np.array([1.0] * 6 + [0.6] * 3 + [0.35] * 8 + [0.6] * 5 + [1.0] * 2)
SORT_HOURS_PER_DAY = float(_SORT_BY_HOUR.sum())


def daily_level(day: date) -> float:
    """National collections on ``day`` as a multiple of an ordinary day (1.0 outside the season)."""
    anchors = [(date(day.year, m, d), level) for m, d, level in _SEASON_ANCHORS]
    if day <= anchors[0][0] or day >= anchors[-1][0]:
        return 1.0
    for (left, left_level), (right, right_level) in itertools.pairwise(anchors):
        if left <= day <= right:
            fraction = (day - left).days / (right - left).days
            return left_level + fraction * (right_level - left_level)
    return 1.0  # unreachable: the anchors cover the season


def daily_levels(minutes: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """``daily_level`` of the Beijing day of each epoch minute."""
    days = (minutes + BEIJING_OFFSET_MIN) // MINUTES_PER_DAY
    unique, inverse = np.unique(days, return_inverse=True)
    epoch = date(1970, 1, 1)
    levels = np.array([daily_level(epoch + timedelta(days=int(day))) for day in unique])
    return np.asarray(levels[inverse], dtype=np.float64)


def beijing_day(minute: int) -> date:
    """The Beijing calendar day of an epoch minute."""
    return date(1970, 1, 1) + timedelta(days=(minute + BEIJING_OFFSET_MIN) // MINUTES_PER_DAY)


def epoch_minute(moment: datetime) -> int:
    """Whole epoch minutes (UTC) of an aware datetime, rounded down."""
    if moment.tzinfo is None:
        raise ValueError("a simulated time needs a UTC offset")
    return int(moment.timestamp() // 60)


def minute_datetime(minute: int) -> datetime:
    """The aware UTC datetime of an epoch minute."""
    return datetime.fromtimestamp(minute * 60, tz=UTC)


@lru_cache(maxsize=64)
def _collection_shares(day: date) -> npt.NDArray[np.float64]:
    """Per-minute share of ``day``'s collections (sums to 1), Beijing minutes 0..1439."""
    centres = np.arange(24) * 60 + 30.0
    minutes = np.arange(MINUTES_PER_DAY, dtype=np.float64)
    weights = np.interp(minutes, centres, _COLLECTION_BY_HOUR, period=MINUTES_PER_DAY)
    surge = _MIDNIGHT_SURGE.get((day.month, day.day))
    if surge is not None:
        weights = weights + surge * np.exp(-minutes / _SURGE_DECAY_MIN)
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def collection_factors(start_minute: int, count: int) -> npt.NDArray[np.float64]:
    """For each minute: the share of a hub's peak-day (11.11) collections reaching it.

    Multiply by a hub's peak-day collections to get its expected collection arrivals that minute.
    Includes the seasonal level, the hour of day, the 11.11 midnight surge and the outlet lag.
    """
    collected = np.arange(start_minute, start_minute + count) - COLLECTION_TO_HUB_LAG_MIN
    local = collected + BEIJING_OFFSET_MIN
    days = local // MINUTES_PER_DAY
    minute_of_day = local % MINUTES_PER_DAY
    factors = np.empty(count, dtype=np.float64)
    for day_number in np.unique(days):
        day = date(1970, 1, 1) + timedelta(days=int(day_number))
        on_day = days == day_number
        shares = _collection_shares(day)[minute_of_day[on_day]]
        factors[on_day] = shares * daily_level(day) / PEAK_LEVEL
    return factors


def sort_shares(start_minute: int, count: int) -> npt.NDArray[np.float64]:
    """For each minute: the share of a hub's rated sorting capacity in use (shift pattern)."""
    local = np.arange(start_minute, start_minute + count) + BEIJING_OFFSET_MIN
    hours = (local % MINUTES_PER_DAY) // 60
    return np.asarray(_SORT_BY_HOUR[hours], dtype=np.float64)
