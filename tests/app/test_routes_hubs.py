"""The registry routes and /metrics on a small app built here (real routers, runtime not started,
real SQLite store): who may register what, the 422s, the recorded history, scrape credentials."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from app.api.deps import Principal
from app.api.routes import hubs as hub_routes
from app.api.routes import metrics as metric_routes
from app.runtime import Runtime
from app.settings import Settings
from core.registry import parse_hubs
from storage.db import open_database

METRICS_TOKEN = "scrape-token-0123456789abcdef"
KEYS = {
    "k-admin": Principal(key_id="ad1", role="admin"),
    "k-regulator": Principal(key_id="rg1", role="regulator"),
    "k-oncall": Principal(key_id="oc1", role="oncall"),
    "k-zto": Principal(key_id="zt1", role="carrier", carrier="ZTO"),
    "k-yto": Principal(key_id="yt1", role="carrier", carrier="YTO"),
}


def hub(hub_id: str, carrier: str = "ZTO", **fields: Any) -> dict[str, Any]:
    return {
        "hub_id": hub_id,
        "carrier": carrier,
        "name": f"{carrier} {hub_id}",
        "province": "浙江",
        "city": "杭州",
        "lat": 30.27,
        "lon": 120.15,
        "tier": "regional",
        "storage_capacity": 100_000,
        "sort_capacity_per_hour": 20_000,
        **fields,
    }


FILE_HUBS = [hub("ZTO-HZ01", key_node=True), hub("YTO-SH01", "YTO"), hub("HZ-LEGACY-1")]


RUNTIMES: dict[httpx.AsyncClient, Runtime] = {}  # each test client's runtime (not started)


class InTestKeys:
    """KeyLookup: the keys above."""

    async def lookup(self, raw_key: str) -> Principal | None:
        return KEYS.get(raw_key)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def make_client(tmp_path: Path, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    database = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    text = "\n".join(json.dumps(h, ensure_ascii=False) for h in FILE_HUBS)
    app = FastAPI()
    app.include_router(hub_routes.router)
    app.include_router(metric_routes.router)
    runtime = Runtime(Settings(**settings), parse_hubs(text), CollectorRegistry())
    app.state.runtime = runtime
    app.state.db = database
    app.state.keys = InTestKeys()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            RUNTIMES[client] = runtime
            yield client
            del RUNTIMES[client]
    finally:
        await database.close()


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for made in make_client(tmp_path, metrics_token=METRICS_TOKEN):
        yield made


@pytest.fixture
async def no_token_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for made in make_client(tmp_path):
        yield made


async def registered(client: httpx.AsyncClient, hub_id: str) -> dict[str, Any] | None:
    """The hub's entry in the registry the process runs on, or None when it is not registered."""
    runtime: Runtime = RUNTIMES[client]
    rows = runtime.registry.filter(pl.col("hub_id") == hub_id)
    return rows.row(0, named=True) if rows.height else None


async def put(client: httpx.AsyncClient, key: str, body: dict[str, Any]) -> httpx.Response:
    return await client.put(f"/v1/hubs/{body['hub_id']}", json=body, headers=auth(key))


# --- key_node is the regulator's ----------------------------------------------------------------


async def test_a_carrier_cannot_make_its_new_hub_a_key_node(client: httpx.AsyncClient) -> None:
    response = await put(client, "k-zto", hub("ZTO-NB01", key_node=True))
    assert response.status_code == 403
    assert response.json()["detail"].startswith("key_node: is set by the regulator")
    assert await registered(client, "ZTO-NB01") is None


async def test_a_carrier_keeps_the_regulators_key_node(client: httpx.AsyncClient) -> None:
    dropped = await put(client, "k-zto", hub("ZTO-HZ01", key_node=False))
    assert dropped.status_code == 403
    assert "key_node" in dropped.json()["detail"]
    changed = await put(client, "k-zto", hub("ZTO-HZ01", storage_capacity=120_000))
    assert changed.status_code == 200, changed.text
    assert changed.json()["key_node"] is True  # omitted: the stored value stays
    shown = await registered(client, "ZTO-HZ01")
    assert shown is not None
    assert (shown["storage_capacity"], shown["key_node"]) == (120_000, True)


@pytest.mark.parametrize("key", ["k-regulator", "k-admin"])
async def test_the_regulator_sets_key_node(client: httpx.AsyncClient, key: str) -> None:
    response = await put(client, key, hub("YTO-SH01", "YTO", key_node=True))
    assert response.status_code == 200, response.text
    shown = await registered(client, "YTO-SH01")
    assert shown is not None
    assert shown["key_node"] is True


async def test_oncall_may_not_change_the_registry(client: httpx.AsyncClient) -> None:
    assert (await put(client, "k-oncall", hub("ZTO-HZ01"))).status_code == 403


# --- capacities ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["storage_capacity", "sort_capacity_per_hour"])
@pytest.mark.parametrize("key", ["k-zto", "k-regulator"])
async def test_a_capacity_of_zero_is_a_422_naming_field_and_rule(
    client: httpx.AsyncClient, field: str, key: str
) -> None:
    response = await put(client, key, {**hub("ZTO-HZ01"), field: 0})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", field]
    assert error["msg"] == "Input should be greater than 0"
    shown = await registered(client, "ZTO-HZ01")
    assert shown is not None
    assert shown[field] == FILE_HUBS[0][field]


# --- squatting ----------------------------------------------------------------------------------


@pytest.mark.parametrize("hub_id", ["YTO-SH99", "SH-99", "ZTOX-1"])
async def test_a_carrier_registers_new_ids_only_in_its_namespace(
    client: httpx.AsyncClient, hub_id: str
) -> None:
    response = await put(client, "k-zto", hub(hub_id))
    assert response.status_code == 403
    assert response.json()["detail"].startswith("hub_id: is not one of your hubs")
    assert "ZTO-" in response.json()["detail"]
    assert await registered(client, hub_id) is None


async def test_a_carrier_changes_its_own_hub_under_an_older_id(client: httpx.AsyncClient) -> None:
    response = await put(client, "k-zto", hub("HZ-LEGACY-1", storage_capacity=5_000))
    assert response.status_code == 200, response.text


async def test_refusals_do_not_tell_a_carrier_which_ids_competitors_hold(
    client: httpx.AsyncClient,
) -> None:
    taken = await put(client, "k-zto", hub("YTO-SH01"))  # YTO's, as ZTO's
    free = await put(client, "k-zto", hub("YTO-SH77"))
    assert (taken.status_code, taken.json()) == (free.status_code, free.json())


async def test_the_regulator_registers_any_id(client: httpx.AsyncClient) -> None:
    response = await put(client, "k-regulator", hub("SH-99", "YTO"))
    assert response.status_code == 200, response.text
    shown = await registered(client, "SH-99")
    assert shown is not None
    assert shown["carrier"] == "YTO"


# --- history ------------------------------------------------------------------------------------


async def test_every_change_is_recorded_and_readable_by_the_regulator(
    client: httpx.AsyncClient,
) -> None:
    assert (await put(client, "k-zto", hub("ZTO-HZ01", storage_capacity=90_000))).is_success
    assert (await put(client, "k-regulator", hub("ZTO-HZ01", key_node=False))).is_success
    assert (await put(client, "k-zto", hub("ZTO-HZ01", key_node=True))).status_code == 403
    response = await client.get("/v1/hubs/ZTO-HZ01/history", headers=auth("k-regulator"))
    assert response.status_code == 200, response.text
    changes = response.json()["changes"]
    assert [(c["by"], c["role"], c["key_id"]) for c in changes] == [
        ("regulator:rg1", "regulator", "rg1"),
        ("carrier:ZTO", "carrier", "zt1"),
    ]
    newest, oldest = changes
    assert oldest["before"] == {**FILE_HUBS[0]}  # the file's entry
    assert oldest["after"]["storage_capacity"] == 90_000
    assert newest["before"] == oldest["after"]
    assert (newest["before"]["key_node"], newest["after"]["key_node"]) == (True, False)
    assert newest["at"] >= oldest["at"]
    assert newest["at"].endswith("Z") or newest["at"].endswith("+00:00")


@pytest.mark.parametrize(("key", "status"), [("k-zto", 403), ("k-oncall", 403), ("k-admin", 200)])
async def test_history_is_for_regulators_and_admins(
    client: httpx.AsyncClient, key: str, status: int
) -> None:
    response = await client.get("/v1/hubs/ZTO-HZ01/history", headers=auth(key))
    assert response.status_code == status


async def test_history_of_a_hub_nobody_registered_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/hubs/NOPE/history", headers=auth("k-regulator"))
    assert response.status_code == 404


# --- /metrics -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        (auth("not-a-key"), 401),
        (auth(METRICS_TOKEN + "x"), 401),
        ({"Authorization": f"Basic {METRICS_TOKEN}"}, 401),
        (auth("k-zto"), 403),
        (auth("k-oncall"), 403),
        (auth(METRICS_TOKEN), 200),
        (auth("k-regulator"), 200),
        (auth("k-admin"), 200),
    ],
)
async def test_metrics_need_a_scrape_credential(
    client: httpx.AsyncClient, headers: dict[str, str], status: int
) -> None:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == status
    if status == 200:
        assert "peakwatch_ingest_events" in response.text
    else:
        assert "peakwatch_" not in response.text


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), (auth(METRICS_TOKEN), 401), (auth("k-zto"), 403), (auth("k-regulator"), 200)],
)
async def test_without_a_token_only_admin_and_regulator_keys_scrape(
    no_token_client: httpx.AsyncClient, headers: dict[str, str], status: int
) -> None:
    assert (await no_token_client.get("/metrics", headers=headers)).status_code == status
