"""Who may register or change which hub: namespaces against squatting, the regulator's key_node."""

from __future__ import annotations

from typing import Any

import pytest

from core.registration import RegistrationRefusedError, accept_change
from core.registry import HubSpec

BASE: dict[str, Any] = {
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
}


def spec(**changes: Any) -> HubSpec:
    return HubSpec.model_validate({**BASE, **changes})


KEY_HUB = spec(key_node=True)
PLAIN_HUB = spec(key_node=False)
YTO_HUB = spec(hub_id="ZTO-HZ01", carrier="YTO")  # an id in ZTO's namespace the admin gave YTO
LEGACY_HUB = spec(hub_id="HZ-TRANSIT-7")  # a ZTO hub of the hubs file under an older id

# (requested fields, current, carrier) -> stored key_node, or the refused field
CASES: list[tuple[str, dict[str, Any], HubSpec | None, str | None, bool | str]] = [
    ("a carrier registers a new hub in its namespace", {}, None, "ZTO", False),
    ("a carrier changes its own hub, key_node omitted", {}, KEY_HUB, "ZTO", True),
    ("a carrier repeats the stored key_node", {"key_node": True}, KEY_HUB, "ZTO", True),
    ("a carrier changes its legacy-id hub", {"hub_id": "HZ-TRANSIT-7"}, LEGACY_HUB, "ZTO", False),
    ("a carrier makes its new hub a key node", {"key_node": True}, None, "ZTO", "key_node"),
    ("a carrier makes its hub a key node", {"key_node": True}, PLAIN_HUB, "ZTO", "key_node"),
    ("a carrier drops the key-node flag", {"key_node": False}, KEY_HUB, "ZTO", "key_node"),
    ("a carrier squats a competitor's namespace", {"hub_id": "YTO-SH09"}, None, "ZTO", "hub_id"),
    ("a carrier squats an id outside any namespace", {"hub_id": "SH-01"}, None, "ZTO", "hub_id"),
    ("a carrier takes a competitor's hub", {}, YTO_HUB, "ZTO", "hub_id"),
    ("a carrier registers for a competitor", {"carrier": "YTO"}, None, "ZTO", "carrier"),
    ("a carrier gives its hub away", {"carrier": "YTO"}, PLAIN_HUB, "ZTO", "carrier"),
    ("the regulator sets key_node", {"key_node": True}, PLAIN_HUB, None, True),
    ("the regulator clears key_node", {"key_node": False}, KEY_HUB, None, False),
    ("the regulator omits key_node", {}, KEY_HUB, None, True),
    ("the regulator registers any id", {"hub_id": "SH-01", "key_node": True}, None, None, True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "current", "carrier", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_who_may_change_what(
    fields: dict[str, Any], current: HubSpec | None, carrier: str | None, expected: bool | str
) -> None:
    body = {**BASE, **fields}
    requested = HubSpec.model_validate(body)
    sent = set(body)
    if isinstance(expected, str):
        with pytest.raises(RegistrationRefusedError) as refused:
            accept_change(requested, current=current, sent=sent, carrier=carrier)
        assert refused.value.field == expected
        assert str(refused.value).startswith(f"{expected}: ")
    else:
        stored = accept_change(requested, current=current, sent=sent, carrier=carrier)
        assert stored == requested.model_copy(update={"key_node": expected})


def test_a_carrier_is_told_the_same_whether_an_id_is_free_or_a_competitors() -> None:
    messages = set()
    for current in (None, YTO_HUB):
        with pytest.raises(RegistrationRefusedError) as refused:
            accept_change(
                spec(hub_id="ZTO-HZ01" if current else "YTO-HZ01"),
                current=current,
                sent=set(BASE),
                carrier="ZTO",
            )
        messages.add(refused.value.rule)
    assert len(messages) == 1
    assert "ZTO-" in messages.pop()
