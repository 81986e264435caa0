"""Where the hubs stand: how many each carrier has, of which tier, in which city.

    CARRIERS                  the eight carrier codes (CARRIER_TABLE: names and hub shares)
    place_hubs(size, rng)     a frame of hubs with ids, names, cities and tiers

National hubs go to the big parcel cities, regional hubs to provincial capitals and large
cities, city and terminal hubs spread by parcel weight. With 31 hubs or more every province has
at least one hub. Shares are estimates (docs/simulator.md).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import polars as pl

from core.registry import TIER_DTYPE
from simulator.cities import CITIES, PROVINCES, City

CARRIER_TABLE: tuple[tuple[str, str, float], ...] = (
    ("ZTO", "中通", 0.15),
    ("YTO", "圆通", 0.13),
    ("YUNDA", "韵达", 0.13),
    ("STO", "申通", 0.11),
    ("SF", "顺丰", 0.12),
    ("JD", "京东", 0.14),
    ("JT", "极兔", 0.12),
    ("EMS", "中国邮政EMS", 0.10),
)
"""(code, Chinese name, share of the network's hubs) — shares are an estimate."""
CARRIERS: tuple[str, ...] = tuple(code for code, _, _ in CARRIER_TABLE)
"""The eight carrier codes."""

TIER_SHARES = {"national": 0.04, "regional": 0.14, "city": 0.34}  # the rest: terminal
TIER_NAMES = {
    "national": "核心转运中心",
    "regional": "转运中心",
    "city": "分拨中心",
    "terminal": "集散点",
}
_WEIGHT = np.array([city.parcel_weight for city in CITIES])
_NATIONAL_SITE = np.array([city.national_site for city in CITIES])
_REGIONAL_SITE = np.array([city.capital or city.parcel_weight >= 2.0 for city in CITIES])


def place_hubs(size: int, rng: np.random.Generator) -> pl.DataFrame:
    """``size`` hubs: hub_id, carrier, name, province, city, lat, lon, tier, weight, capital."""
    placed: list[tuple[str, str, int]] = []  # (carrier, tier, city index)
    for (carrier, _name, _share), count in zip(CARRIER_TABLE, _carrier_counts(size), strict=True):
        for tier, tier_count in _tier_counts(count).items():
            placed += [(carrier, tier, city) for city in _pick_cities(tier, tier_count, rng)]
    if size >= len(PROVINCES):
        placed = _cover_provinces(placed)
    return _hub_frame(placed)


def _carrier_counts(size: int) -> list[int]:
    """Hubs per carrier by largest remainder of the shares."""
    exact = np.array([share for _, _, share in CARRIER_TABLE]) * size
    counts = np.floor(exact).astype(int)
    for index in np.argsort(-(exact - counts), kind="stable")[: size - counts.sum()]:
        counts[index] += 1
    return [int(count) for count in counts]


def _tier_counts(count: int) -> dict[str, int]:
    """Hubs of each tier for a carrier with ``count`` hubs: at least one national hub."""
    national = max(1, round(TIER_SHARES["national"] * count))
    regional = max(1, round(TIER_SHARES["regional"] * count)) if count > 2 else 0
    city = min(round(TIER_SHARES["city"] * count), count - national - regional)
    return {
        "national": national,
        "regional": regional,
        "city": city,
        "terminal": count - national - regional - city,
    }


def _pick_cities(tier: str, count: int, rng: np.random.Generator) -> list[int]:
    """City indices for ``count`` hubs of one carrier and tier (distinct while the pool lasts)."""
    if tier == "national":
        pool, weight = np.flatnonzero(_NATIONAL_SITE), _WEIGHT[_NATIONAL_SITE]
    elif tier == "regional":
        pool, weight = np.flatnonzero(_REGIONAL_SITE), np.sqrt(_WEIGHT[_REGIONAL_SITE])
    else:
        pool = np.arange(len(CITIES))
        weight = _WEIGHT**0.8 if tier == "city" else np.sqrt(_WEIGHT)
    p = weight / weight.sum()
    distinct = min(count, pool.size)
    chosen = list(rng.choice(pool, size=distinct, replace=False, p=p))
    chosen += list(rng.choice(pool, size=count - distinct, replace=True, p=p))
    return [int(city) for city in chosen]


def _cover_provinces(placed: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """Move terminal (then city) hubs from crowded provinces to capitals of empty ones."""
    capitals = {city.province: index for index, city in enumerate(CITIES) if city.capital}
    placed = list(placed)
    for province in PROVINCES:
        per_province = Counter(CITIES[city].province for _, _, city in placed)
        if per_province[province]:
            continue
        for tier in ("terminal", "city", "regional"):
            movable = [i for i, (_, t, _) in enumerate(placed) if t == tier]
            if movable:
                crowded = max(
                    movable, key=lambda i: (per_province[CITIES[placed[i][2]].province], i)
                )
                carrier, _, _ = placed[crowded]
                placed[crowded] = (carrier, tier, capitals[province])
                break
    return placed


def _hub_frame(placed: list[tuple[str, str, int]]) -> pl.DataFrame:
    """Number hubs per carrier and city (ZTO-HZ01, ZTO-HZ02, ...) and name them."""
    names = {code: name for code, name, _ in CARRIER_TABLE}
    seen: Counter[tuple[str, int]] = Counter()
    rows: list[dict[str, object]] = []
    for carrier, tier, index in placed:
        city: City = CITIES[index]
        seen[(carrier, index)] += 1
        number = seen[(carrier, index)]
        ordinal = "" if number == 1 else f"{number}号"
        rows.append(
            {
                "hub_id": f"{carrier}-{city.code}{number:02d}",
                "carrier": carrier,
                "name": f"{names[carrier]}{city.name}{ordinal}{TIER_NAMES[tier]}",
                "province": city.province,
                "city": city.name,
                "lat": city.lat,
                "lon": city.lon,
                "tier": tier,
                "parcel_weight": city.parcel_weight,
                "capital": city.capital,
            }
        )
    return pl.DataFrame(rows).with_columns(pl.col("tier").cast(TIER_DTYPE))
