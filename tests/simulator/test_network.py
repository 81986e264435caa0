from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core.errors import ConfigError
from core.registry import HUB_SCHEMA, TIERS, parse_hubs
from simulator.cities import PROVINCES
from simulator.network import build_model, build_network
from simulator.placement import CARRIERS
from simulator.simulation import hubs_jsonl

# Published 11.11 single-day national volumes, 2019-2025 (REFERENCE.md): 535 M to 777 M.
NATIONAL_PEAK_DAY_RANGE = (535e6, 777e6)
INDUSTRY_HUBS = 3_000  # sorting and transit centres industry-wide (2024)


@pytest.fixture(scope="module")
def network() -> pl.DataFrame:
    return build_model(300, 1).hubs


def test_registry_has_the_hub_schema_and_reads_back_from_its_hubs_file() -> None:
    registry = build_network(300, 1)

    assert registry.schema == pl.Schema(HUB_SCHEMA)
    assert_frame_equal(parse_hubs(hubs_jsonl(registry)), registry)


def test_same_size_and_seed_give_the_same_network() -> None:
    assert_frame_equal(build_network(120, 5), build_network(120, 5))
    assert not build_network(120, 5).equals(build_network(120, 6))


def test_hubs_cover_all_provinces_carriers_and_tiers(network: pl.DataFrame) -> None:
    assert network.height == 300
    assert network["hub_id"].n_unique() == 300
    assert set(network["province"]) == set(PROVINCES)
    assert set(network["carrier"]) == set(CARRIERS)
    assert set(network["tier"].cast(pl.String)) == set(TIERS)
    assert network.filter(pl.col("tier") == "national")["key_node"].all()


def test_hub_ids_name_their_carrier_and_city(network: pl.DataFrame) -> None:
    hz = network.filter(pl.col("hub_id").str.starts_with("ZTO-HZ"))

    assert (network["hub_id"].str.split("-").list.first() == network["carrier"]).all()
    assert network["hub_id"].str.contains(r"^[A-Z]+-[A-Z]+\d{2,}$").all()
    assert hz.is_empty() or (hz["city"] == "杭州").all()


@pytest.mark.parametrize(
    ("tier", "low", "high"),
    [("national", 1e6, 5e6), ("regional", 0.8e6, 2.9e6), ("city", 0.3e6, 0.85e6)],
)
def test_peak_day_volumes_fall_in_the_published_ranges(
    network: pl.DataFrame, tier: str, low: float, high: float
) -> None:
    volumes = network.filter(pl.col("tier") == tier)["peak_daily_parcels"]

    assert volumes.min() >= low  # type: ignore[operator]
    assert volumes.max() <= high  # type: ignore[operator]


def test_sorting_lines_run_at_14k_to_40k_parcels_an_hour(network: pl.DataFrame) -> None:
    automated = network.filter(
        pl.col("tier") != "terminal", pl.col("sort_capacity_per_hour") >= 14_000
    )
    per_line = automated["sort_capacity_per_hour"] / automated["sorting_lines"]

    assert per_line.min() >= 14_000  # type: ignore[operator]
    assert per_line.max() <= 40_000  # type: ignore[operator]


def test_a_peak_day_fits_in_the_days_sorting_capacity(network: pl.DataFrame) -> None:
    hours_needed = network["peak_daily_parcels"] / network["sort_capacity_per_hour"]

    assert hours_needed.max() <= 20  # type: ignore[operator]


@pytest.mark.parametrize("size", [300, 3_000])
def test_national_collections_on_11_11_scale_with_network_size(size: int) -> None:
    collections = build_model(size, 1).hubs["collect_peak_per_day"].sum()
    as_whole_industry = collections * INDUSTRY_HUBS / size

    assert NATIONAL_PEAK_DAY_RANGE[0] <= as_whole_industry <= NATIONAL_PEAK_DAY_RANGE[1]


def test_lanes_link_hubs_of_one_carrier_both_ways_with_road_transit_times() -> None:
    model = build_model(300, 1)
    lanes = model.lanes
    carrier = model.hubs.select("hub_id", "carrier")
    joined = lanes.join(carrier, left_on="from_hub", right_on="hub_id").join(
        carrier, left_on="to_hub", right_on="hub_id", suffix="_to"
    )
    reverse = lanes.select(from_hub="to_hub", to_hub="from_hub")

    assert (joined["carrier"] == joined["carrier_to"]).all()
    assert reverse.join(lanes, on=["from_hub", "to_hub"], how="anti").is_empty()
    assert set(lanes["from_hub"]) == set(model.hubs["hub_id"])
    assert lanes["transit_min"].min() >= 30  # type: ignore[operator]
    # Beijing to Urumqi class lanes take days on the road; the mean stays under the 33.6 h average
    assert lanes["transit_min"].max() > 24 * 60  # type: ignore[operator]
    assert lanes["transit_min"].mean() < 33.6 * 60  # type: ignore[operator]


def test_every_hub_collects_and_delivers_locally() -> None:
    model = build_model(300, 1)
    sent_on = np.bincount(model.flows.lane_src, model.flows.lane_share, minlength=300)

    assert (model.hubs["collect_peak_per_day"] > 0).all()
    assert sent_on.max() <= 0.7 + 1e-9


@pytest.mark.parametrize("size", [30, 5_001])
def test_sizes_outside_31_to_5000_are_refused(size: int) -> None:
    with pytest.raises(ConfigError, match="hubs"):
        build_network(size, 1)
