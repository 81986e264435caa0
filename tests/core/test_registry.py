"""The hub registry: parsing the hubs file, upserts, checking events against it, and the
capacity rules of a registration over the API."""

from __future__ import annotations

import json

import polars as pl
import pytest
from pydantic import ValidationError

from core.errors import ConfigError
from core.events import decode_batch
from core.registry import (
    MAX_SORT_CAPACITY_PER_HOUR,
    MAX_STORAGE_CAPACITY,
    HubRegistration,
    HubSpec,
    check_events,
    parse_hubs,
    upsert_hub,
)

HUB = {
    "hub_id": "ZTO-HZ01",
    "carrier": "ZTO",
    "name": "中通杭州",
    "province": "浙江",
    "city": "杭州",
    "lat": 30.27,
    "lon": 120.15,
    "tier": "national",
    "storage_capacity": 600_000,
    "sort_capacity_per_hour": 120_000,
    "key_node": True,
}


def test_parse_hubs_skips_comments_and_blank_lines() -> None:
    text = "# hubs\n\n" + json.dumps(HUB, ensure_ascii=False) + "\n"
    registry = parse_hubs(text)
    assert registry.height == 1
    assert registry.row(0, named=True)["storage_capacity"] == 600_000


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{oops", "line 1: not valid JSON"),
        (json.dumps({**HUB, "tier": "galactic"}), "line 1: tier"),
        (json.dumps({**HUB, "storage_capacity": -1}), "line 1: storage_capacity"),
        (json.dumps({k: v for k, v in HUB.items() if k != "province"}), "line 1: province"),
    ],
)
def test_a_bad_line_names_line_field_and_rule(line: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_hubs(line)


def test_upsert_replaces_in_place_and_appends_new() -> None:
    registry = parse_hubs(json.dumps(HUB))
    changed = upsert_hub(registry, HubSpec.model_validate({**HUB, "storage_capacity": 1}))
    assert changed["storage_capacity"].to_list() == [1]
    added = upsert_hub(changed, HubSpec.model_validate({**HUB, "hub_id": "ZTO-NB01"}))
    assert added["hub_id"].to_list() == ["ZTO-HZ01", "ZTO-NB01"]


def test_events_of_unknown_hubs_or_other_carriers_are_rejected() -> None:
    registry = parse_hubs(json.dumps(HUB))
    base = {"ts": 0, "kind": "arrival", "parcels": 1}
    records = [
        json.dumps({**base, "event_id": "a", "carrier": "ZTO", "hub_id": "ZTO-HZ01"}).encode(),
        json.dumps({**base, "event_id": "b", "carrier": "YTO", "hub_id": "ZTO-HZ01"}).encode(),
        json.dumps({**base, "event_id": "c", "carrier": "ZTO", "hub_id": "NOPE"}).encode(),
    ]
    valid, rejects = check_events(decode_batch(records).events, registry)
    assert valid["event_id"].to_list() == ["a"]
    assert rejects.sort("index").rows() == [
        (1, "carrier", "must match the hub's carrier (ZTO)", "carrier_mismatch"),
        (2, "hub_id", "must be a registered hub", "unknown_hub"),
    ]
    assert rejects.schema["index"] == pl.UInt32()


def test_a_lane_to_or_from_a_hub_that_is_not_the_carriers_own_is_rejected_unnamed() -> None:
    hubs = [HUB, {**HUB, "hub_id": "ZTO-NB01"}, {**HUB, "hub_id": "YTO-SH01", "carrier": "YTO"}]
    registry = parse_hubs("\n".join(json.dumps(hub) for hub in hubs))
    base = {"ts": 0, "parcels": 100_000_000, "carrier": "ZTO", "hub_id": "ZTO-HZ01"}
    out, arrive = {**base, "kind": "departure"}, {**base, "kind": "arrival"}
    records = [
        {**out, "event_id": "own", "to_hub": "ZTO-NB01"},
        {**out, "event_id": "competitor", "to_hub": "YTO-SH01"},
        {**arrive, "event_id": "invented", "from_hub": "ZTO-RANDOM-7f3a"},
        {**arrive, "event_id": "own-in", "from_hub": "ZTO-NB01"},
        {**out, "event_id": "no-lane"},
        {**out, "event_id": "stranger", "hub_id": "NOPE", "to_hub": "YTO-SH01"},
    ]
    events = decode_batch([json.dumps(record).encode() for record in records]).events
    valid, rejects = check_events(events, registry)
    assert valid["event_id"].to_list() == ["own", "own-in", "no-lane"]  # in record order
    assert valid.columns == events.columns
    # the sender's own carrier is named, never the owner of the hub (no ownership oracle)
    assert rejects.sort("index").rows() == [
        (1, "to_hub", "must be a registered hub of the same carrier (ZTO)", "foreign_lane"),
        (2, "from_hub", "must be a registered hub of the same carrier (ZTO)", "foreign_lane"),
        (5, "hub_id", "must be a registered hub", "unknown_hub"),  # the first rule broken
    ]


def test_the_hubs_file_still_loads_a_hub_without_capacity_as_not_rated() -> None:
    registry = parse_hubs(json.dumps({**HUB, "storage_capacity": 0, "sort_capacity_per_hour": 0}))
    assert registry.row(0, named=True)["storage_capacity"] == 0


@pytest.mark.parametrize("field", ["storage_capacity", "sort_capacity_per_hour"])
@pytest.mark.parametrize("value", [0, -5])
def test_a_registration_needs_both_capacities_above_zero(field: str, value: int) -> None:
    with pytest.raises(ValidationError) as raised:
        HubRegistration.model_validate({**HUB, field: value})
    (error,) = raised.value.errors()
    assert error["loc"] == (field,)
    assert error["msg"] == "Input should be greater than 0"


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("storage_capacity", MAX_STORAGE_CAPACITY),
        ("sort_capacity_per_hour", MAX_SORT_CAPACITY_PER_HOUR),
    ],
)
def test_a_registration_cannot_raise_capacity_beyond_any_real_site(field: str, limit: int) -> None:
    assert HubRegistration.model_validate({**HUB, field: limit}).model_dump()[field] == limit
    with pytest.raises(ValidationError, match=field):
        HubRegistration.model_validate({**HUB, field: limit + 1})
