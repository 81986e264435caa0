"""Tenant safety of the registry and of /metrics, through a running service: carriers cannot set
the regulator's inputs or squat hub ids, every change is recorded for the regulator, and /metrics
answers a scrape credential only — which a real Prometheus sends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.prometheus import running_prometheus
from tests.support.service import Service, call, hub_line

pytestmark = pytest.mark.integration

METRICS_TOKEN = "test-metrics-token-0123456789"
ROLES = ("regulator", "oncall", "carrier:ZTO", "carrier:YTO")


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str
) -> Iterator[tuple[Service, dict[str, str]]]:
    """A service with a metrics token, a ZTO key node and a YTO hub, and a key per role."""
    from tests.support.service import make_service

    hubs = "\n".join(
        [
            hub_line("ZTO-HZ01", "ZTO", key_node=True),
            hub_line("YTO-SH01", "YTO", province="上海"),
        ]
    )
    service = make_service(
        tmp_path_factory.mktemp("registry"),
        kafka_bootstrap,
        hubs,
        overrides={"PEAKWATCH_METRICS_TOKEN": METRICS_TOKEN},
    )
    service.start()
    keys = {"admin": service.admin_key}
    with service.client() as admin:
        for role in ROLES:
            response = admin.post("/v1/api-keys", json={"role": role})
            assert response.status_code == 201, response.text
            keys[role] = response.json()["key"]
    try:
        yield service, keys
    finally:
        service.kill()


def _hub(hub_id: str, carrier: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(hub_line(hub_id, carrier, **fields))
    return body


def _put(service: Service, key: str, body: dict[str, Any]) -> httpx.Response:
    return call(service, key, "PUT", f"/v1/hubs/{body['hub_id']}", body)


def test_a_carrier_cannot_make_its_hub_a_key_node_or_drop_the_flag(
    world: tuple[Service, dict[str, str]],
) -> None:
    service, keys = world
    new = _put(service, keys["carrier:ZTO"], _hub("ZTO-NB01", "ZTO", key_node=True))
    assert new.status_code == 403
    assert new.json()["detail"].startswith("key_node:")
    dropped = _put(service, keys["carrier:ZTO"], _hub("ZTO-HZ01", "ZTO", key_node=False))
    assert dropped.status_code == 403
    assert dropped.json()["detail"].startswith("key_node:")
    assert call(service, keys["carrier:ZTO"], "GET", "/v1/hubs/ZTO-NB01").status_code == 404


@pytest.mark.parametrize("field", ["storage_capacity", "sort_capacity_per_hour"])
def test_a_capacity_of_zero_is_refused_naming_the_field(
    world: tuple[Service, dict[str, str]], field: str
) -> None:
    service, keys = world
    response = _put(service, keys["carrier:ZTO"], _hub("ZTO-HZ01", "ZTO", **{field: 0}))
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (["body", field], "Input should be greater than 0")


def test_a_carrier_cannot_squat_a_hub_id_outside_its_namespace(
    world: tuple[Service, dict[str, str]],
) -> None:
    service, keys = world
    squat = _put(service, keys["carrier:ZTO"], _hub("YTO-HZ09", "ZTO"))
    assert squat.status_code == 403
    assert "ZTO-" in squat.json()["detail"]
    # The real owner registers it afterwards.
    owned = _put(service, keys["carrier:YTO"], _hub("YTO-HZ09", "YTO"))
    assert owned.status_code == 200, owned.text


def test_the_regulator_sets_key_node_and_the_change_is_recorded(
    world: tuple[Service, dict[str, str]],
) -> None:
    service, keys = world
    response = _put(service, keys["regulator"], _hub("YTO-SH01", "YTO", key_node=True))
    assert response.status_code == 200, response.text
    assert response.json()["key_node"] is True
    # The carrier's next change, without the flag it cannot touch, keeps it.
    change = _hub("YTO-SH01", "YTO", storage_capacity=90_000)
    del change["key_node"]
    kept = _put(service, keys["carrier:YTO"], change)
    assert kept.status_code == 200, kept.text
    assert kept.json()["key_node"] is True
    history = call(service, keys["regulator"], "GET", "/v1/hubs/YTO-SH01/history")
    assert history.status_code == 200, history.text
    changes = history.json()["changes"]
    assert [(c["by"], c["before"]["key_node"], c["after"]["key_node"]) for c in changes] == [
        ("carrier:YTO", True, True),
        (changes[1]["by"], False, True),
    ]
    assert changes[1]["role"] == "regulator"
    assert changes[0]["after"]["storage_capacity"] == 90_000


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("regulator", 200), ("oncall", 403), ("carrier:ZTO", 403)],
)
def test_history_is_for_regulators_and_admins(
    world: tuple[Service, dict[str, str]], role: str, status: int
) -> None:
    service, keys = world
    assert call(service, keys[role], "GET", "/v1/hubs/ZTO-HZ01/history").status_code == status
    assert call(service, None, "GET", "/v1/hubs/ZTO-HZ01/history").status_code == 401


@pytest.mark.parametrize(
    ("credential", "status"),
    [
        (None, 401),
        ("not-a-key", 401),
        ("carrier:ZTO", 403),
        ("oncall", 403),
        ("regulator", 200),
        ("admin", 200),
        (METRICS_TOKEN, 200),
    ],
)
def test_metrics_answer_a_scrape_credential_only(
    world: tuple[Service, dict[str, str]], credential: str | None, status: int
) -> None:
    service, keys = world
    response = call(service, keys.get(credential or "", credential), "GET", "/metrics")
    assert response.status_code == status
    assert ("peakwatch_hub_info{" in response.text) == (status == 200)


def test_a_real_prometheus_scrapes_with_the_token(
    world: tuple[Service, dict[str, str]], tmp_path: Path
) -> None:
    service, _ = world
    with running_prometheus(
        [f"{service.url}/metrics"], workdir=tmp_path, bearer_token=METRICS_TOKEN
    ) as prometheus:
        prometheus.wait_for_scrape()
        hubs = prometheus.wait_for_data('peakwatch_hub_info{hub_id="ZTO-HZ01"}')
    assert hubs[0]["metric"]["job"] == "peakwatch"


def test_a_registry_change_reaches_every_replica_and_survives_a_restart(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    from tests.support.service import make_service, wait_for

    first = make_service(tmp_path, kafka_bootstrap, hub_line("ZTO-HZ01", "ZTO"))
    first.start()
    # a second replica: same topics, group and database, its own port and log
    env = dict(first.env)
    second = Service(url=first.url, env=env, log_path=tmp_path / "service-b.log")
    from app.local_kafka import free_port

    port = free_port()
    second.env = {**env, "PEAKWATCH_HTTP_PORT": str(port)}
    second.url = f"http://127.0.0.1:{port}"
    second.start()
    try:
        with first.client() as admin:
            answer = admin.put("/v1/hubs/ZTO-NB01", json=_hub("ZTO-NB01", "ZTO", key_node=True))
            assert answer.status_code in (200, 201), answer.text
        with second.client() as other:
            seen = wait_for(
                lambda: other.get("/v1/hubs/ZTO-NB01").status_code == 200,
                timeout_s=20,
                what="the other replica to know the hub registered on the first",
            )
            assert seen
            assert other.get("/v1/hubs/ZTO-NB01").json()["key_node"] is True
        second.stop()
        first.stop()
        first.start()  # the hubs file does not hold ZTO-NB01: the store does
        with first.client() as admin:
            hub = admin.get("/v1/hubs/ZTO-NB01")
            assert hub.status_code == 200, hub.text
            assert hub.json()["key_node"] is True
    finally:
        second.kill()
        first.kill()
