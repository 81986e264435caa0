from __future__ import annotations

from collections import Counter

from simulator.cities import CITIES, PROVINCES


def test_every_province_of_the_mainland_has_exactly_one_capital() -> None:
    capitals = Counter(city.province for city in CITIES if city.capital)

    assert len(PROVINCES) == 31
    assert all(capitals[province] == 1 for province in PROVINCES)


def test_cities_are_points_inside_china_with_unique_ascii_codes() -> None:
    codes = [city.code for city in CITIES]

    assert len(set(codes)) == len(codes)
    assert all(code.isascii() and code.isupper() for code in codes)
    assert all(18.0 <= city.lat <= 54.0 and 73.0 <= city.lon <= 135.0 for city in CITIES)
