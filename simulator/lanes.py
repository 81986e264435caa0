"""Lanes between hubs of one carrier, their transit times, and the share of traffic on each.

The lane graph follows how express networks are built: national hubs are meshed; a regional hub
links to its two nearest national hubs and two nearest regional hubs; a city hub links to a
parent in its province (a regional hub where there is one) and to its nearest national hub; a
terminal hub links to one parent. Every link carries traffic both ways.

Traffic shares come from a gravity rule (bigger and nearer hubs get more, and lanes down the
hierarchy towards delivery get ``DOWNSTREAM_WEIGHT`` times more), sized so that a hub
sends at most ``LANE_OUT_RATIO`` of what it handles on to other hubs and receives at most
``LANE_IN_RATIO`` of it from them; the rest is collected from, or delivered to, its own area.

    build_lanes(hubs)      a lane table: src, dst (row numbers), distance_km, transit_min, share
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

LANE_OUT_RATIO = 0.7
LANE_IN_RATIO = 0.8
LOADING_MIN = 30
ROAD_FACTOR = 1.3  # road distance / great-circle distance (estimate)
LINE_HAUL_KM_PER_H = 60.0  # average line-haul speed including stops (estimate)
GRAVITY_KM = 500.0
PROVINCE_PENALTY_KM = 400.0  # a parent in another province must be this much nearer
DOWNSTREAM_WEIGHT = 10.0  # traffic heads down the hierarchy towards delivery (estimate)
_TIER_RANK = {"national": 0, "regional": 1, "city": 2, "terminal": 3}

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def great_circle_km(lat1: Floats, lon1: Floats, lat2: Floats, lon2: Floats) -> Floats:
    """Haversine distance in km, element-wise (broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))), dtype=np.float64)


def transit_minutes(distance_km: Floats) -> Ints:
    """Loading plus line-haul time on the road for a great-circle distance."""
    hours = distance_km * ROAD_FACTOR / LINE_HAUL_KM_PER_H
    return (LOADING_MIN + np.rint(hours * 60)).astype(np.int64)


def build_lanes(hubs: pl.DataFrame) -> pl.DataFrame:
    """Lanes for a hub frame with carrier, tier, province, lat, lon and peak_daily_parcels.

    Returns columns ``src``, ``dst`` (row numbers in ``hubs``), ``distance_km``, ``transit_min``
    and ``share`` (of the source's departures), sorted by ``src`` then ``dst``.
    """
    pairs: list[tuple[int, int]] = []
    for rows in hubs.with_row_index("row").partition_by("carrier", maintain_order=True):
        pairs.extend(_carrier_links(rows))
    links = np.array(sorted({(a, b) for a, b in pairs} | {(b, a) for a, b in pairs}))
    src, dst = links[:, 0].astype(np.int64), links[:, 1].astype(np.int64)
    lat, lon = hubs["lat"].to_numpy(), hubs["lon"].to_numpy()
    distance = great_circle_km(lat[src], lon[src], lat[dst], lon[dst])
    rank = hubs["tier"].cast(pl.String).replace_strict(_TIER_RANK).to_numpy()
    downstream = rank[dst] > rank[src]
    share = _gravity_shares(src, dst, distance, downstream, hubs["peak_daily_parcels"].to_numpy())
    return pl.DataFrame(
        {
            "src": src,
            "dst": dst,
            "distance_km": np.round(distance, 1),
            "transit_min": transit_minutes(distance),
            "share": share,
        }
    )


def _carrier_links(rows: pl.DataFrame) -> list[tuple[int, int]]:
    """Undirected links (row numbers) between the hubs of one carrier."""
    row = rows["row"].to_numpy().astype(np.int64)
    tier = rows["tier"].cast(pl.String).to_numpy()
    province = rows["province"].to_numpy()
    lat, lon = rows["lat"].to_numpy(), rows["lon"].to_numpy()
    distance = great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    same_province = province[:, None] == province[None, :]
    biased = distance + np.where(same_province, 0.0, PROVINCE_PENALTY_KM)
    national = np.flatnonzero(tier == "national")
    regional = np.flatnonzero(tier == "regional")
    links: list[tuple[int, Ints]] = [(int(a), national[i + 1 :]) for i, a in enumerate(national)]
    for hub in regional.tolist():
        links.append((hub, _nearest(distance[hub], national, 2)))
        links.append((hub, _nearest(distance[hub], regional[regional != hub], 2)))
    for hub in np.flatnonzero(tier == "city").tolist():
        parent_pool = regional if regional.size else national
        links.append((hub, _nearest(biased[hub], parent_pool, 1)))
        links.append((hub, _nearest(distance[hub], national, 1)))
    upper = np.flatnonzero((tier == "city") | (tier == "regional"))
    for hub in np.flatnonzero(tier == "terminal").tolist():
        parent_pool = upper if upper.size else national
        links.append((hub, _nearest(biased[hub], parent_pool, 1)))
    return [(int(row[a]), int(row[b])) for a, others in links for b in others.tolist() if a != b]


def _nearest(costs: Floats, candidates: Ints, count: int) -> Ints:
    """The ``count`` candidates with the lowest cost (ties broken by position)."""
    if candidates.size == 0:
        return candidates
    order = np.argsort(costs[candidates], kind="stable")
    return candidates[order[:count]]


def _gravity_shares(
    src: Ints, dst: Ints, distance: Floats, downstream: npt.NDArray[np.bool_], volume: Floats
) -> Floats:
    """Lane shares: gravity weights, each hub sending <= LANE_OUT_RATIO, receiving <= IN_RATIO."""
    hubs = volume.shape[0]
    weight = (
        volume[dst] / (1.0 + distance / GRAVITY_KM) * np.where(downstream, DOWNSTREAM_WEIGHT, 1.0)
    )
    weight_sum = np.bincount(src, weights=weight, minlength=hubs)
    flow = LANE_OUT_RATIO * volume[src] * weight / weight_sum[src]
    inflow = np.bincount(dst, weights=flow, minlength=hubs)
    cap = np.minimum(
        1.0, np.divide(LANE_IN_RATIO * volume, inflow, where=inflow > 0, out=np.ones(hubs))
    )
    flow = flow * cap[dst]
    return np.asarray(flow / volume[src], dtype=np.float64)
