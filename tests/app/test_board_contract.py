"""The board reads only fields the API declares: every ``hub.x``, ``network.x``, ``item.x`` (a
province row), ``alert.x`` and ``labels.x`` in its scripts is a field of the matching response
model, and the fakes its browser tests are fed are those models' JSON. Rename a field in the API
and these fail before a duty-room screen goes blank."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from alerts.schemas import AlertLabelsOut, AlertOut
from app.api.models.hubs import HubState
from app.api.models.network import NetworkStatus, ProvinceStatus
from core.levels import LEVELS
from tests.app import board_fakes

BOARD = Path(__file__).resolve().parents[2] / "app" / "board"
SCRIPTS = ("views.js", "map.js", "board.js")
# the name a script gives an API object → the model it is an instance of
READS: dict[str, type[BaseModel]] = {
    "hub": HubState,
    "network": NetworkStatus,
    "item": ProvinceStatus,
    "alert": AlertOut,
    "labels": AlertLabelsOut,
}


def _source() -> str:
    return "\n".join((BOARD / name).read_text(encoding="utf-8") for name in SCRIPTS)


def unknown_reads(source: str, variable: str, fields: set[str]) -> list[str]:
    """Fields ``source`` reads off ``variable`` (``variable.x`` or ``variable?.x``) not in
    ``fields``."""
    read = set(re.findall(rf"\b{variable}\??\.([a-z_][a-z0-9_]*)\b", source))
    return sorted(read - fields)


@pytest.mark.parametrize("variable", list(READS))
def test_every_field_the_board_reads_is_declared(variable: str) -> None:
    source = _source()
    if variable == "network":  # board.js's `network` is a settled promise, not the answer
        source = (BOARD / "views.js").read_text(encoding="utf-8")
    assert unknown_reads(source, variable, set(READS[variable].model_fields)) == []


def test_banner_shares_and_level_counts_are_declared() -> None:
    views = (BOARD / "views.js").read_text(encoding="utf-8")
    shares = re.search(r"BANNER_SHARES = \[([^\]]*)\]", views)
    assert shares is not None
    names = re.findall(r'"(\w+)"', shares.group(1))
    assert names
    assert set(names) <= set(NetworkStatus.model_fields)
    assert "`hubs_${level}`" in views  # the level counts: one hubs_<level> field per level
    for model in (NetworkStatus, ProvinceStatus):
        assert {f"hubs_{level}" for level in LEVELS} <= set(model.model_fields)


def test_a_renamed_field_is_caught() -> None:
    """Were ``arrivals_per_min`` renamed in the API, the check above would name it."""
    fields = set(NetworkStatus.model_fields) - {"arrivals_per_min"}
    views = (BOARD / "views.js").read_text(encoding="utf-8")
    assert unknown_reads(views, "network", fields) == ["arrivals_per_min"]


def test_the_fakes_are_what_the_api_serves() -> None:
    hubs = board_fakes.make_hubs()
    network = board_fakes.network_status(hubs, level="orange").model_dump(mode="json")
    assert NetworkStatus.model_validate(network).hubs == len(hubs)
    renamed = {**network, "arrivals": network.pop("arrivals_per_min")}
    with pytest.raises(ValidationError):  # a shape the service never sends is refused
        NetworkStatus.model_validate(renamed)
    provinces = board_fakes.province_statuses(hubs)
    assert sum(row.hubs for row in provinces) == len(hubs)
    assert provinces[0].province == "浙江"  # its two red hubs make it the worst
