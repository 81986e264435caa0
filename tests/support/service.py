"""A real ``peakwatch serve`` process for integration tests, on its own topics and database."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.local_service import REPO_ROOT, LocalService

ADMIN_KEY = "test-admin-key"


@dataclass
class Service(LocalService):
    """One service process for a test; ``start`` returns once it is ready."""

    admin_key: str = ADMIN_KEY

    def start(self, *, wait_ready: bool = True, timeout_s: float = 60.0) -> None:
        """Start the process and wait for /healthz (and /readyz with ``wait_ready``)."""
        super().start()
        self.wait("/readyz" if wait_ready else "/healthz", timeout_s=timeout_s)

    def client(self, key: str | None = None) -> httpx.Client:
        """An HTTP client with a bearer key (the admin key by default)."""
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {key or self.admin_key}"},
            timeout=30,
        )


def make_service(
    tmp_path: Path,
    bootstrap: str,
    hubs_jsonl: str,
    *,
    name: str | None = None,
    overrides: dict[str, str] | None = None,
) -> Service:
    """A service with its own topics, group and SQLite file (not started)."""
    suffix = name or uuid.uuid4().hex[:8]
    hubs_file = tmp_path / f"hubs-{suffix}.jsonl"
    hubs_file.write_text(hubs_jsonl, encoding="utf-8")
    settings = {
        "PEAKWATCH_EVENTS_PARTITIONS": "4",
        "PEAKWATCH_STATUS_PUBLISH_INTERVAL_S": "0.5",
        # Short event-time settings, so that what a test posts is evaluated within seconds of
        # the feed going quiet (idle after 1 s, then event time goes on with the wall clock).
        # Tests of the event-time semantics themselves pass the defaults back in ``overrides``.
        "PEAKWATCH_IDLE_TIMEOUT_S": "1.0",
        "PEAKWATCH_RISK": json.dumps({"allowed_lateness_s": 0, "evaluation_step_s": 20}),
        "PEAKWATCH_CHECKPOINT_INTERVAL_S": "1.0",
        **(overrides or {}),
    }
    local = LocalService.isolated(
        bootstrap, hubs_file, tmp_path, admin_key=ADMIN_KEY, suffix=suffix, settings=settings
    )
    return Service(url=local.url, env=local.env, log_path=local.log_path)


def hub_line(hub_id: str, carrier: str, **fields: Any) -> str:
    """One hubs-file line with sensible defaults."""
    hub = {
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
        "key_node": False,
        **fields,
    }
    return json.dumps(hub, ensure_ascii=False)


def wait_for(
    predicate: Any,
    *,
    timeout_s: float = 30.0,
    what: str = "condition",
    describe: Any = None,
) -> Any:
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout_s``.

    ``describe`` (optional) is called on failure and its answer goes into the message: what the
    service showed instead.
    """
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.25)
    shown = describe() if describe is not None else last
    pytest.fail(f"timed out after {timeout_s} s waiting for {what} (last value: {shown!r})")


@pytest.fixture
def service_factory(tmp_path: Path, kafka_bootstrap: str) -> Iterator[Any]:
    """Make services for a test; every one is stopped afterwards."""
    made: list[Service] = []

    def factory(hubs_jsonl: str, **kwargs: Any) -> Service:
        service = make_service(tmp_path, kafka_bootstrap, hubs_jsonl, **kwargs)
        made.append(service)
        return service

    yield factory
    for service in made:
        service.kill()


def run_simulator(*args: str, timeout_s: float = 300.0) -> None:
    """Run ``peakwatch simulate`` with ``args`` to completion (bounded in time)."""
    subprocess.run(
        [sys.executable, "-m", "app.cli", "simulate", "--quiet", *args],
        cwd=REPO_ROOT,
        check=True,
        timeout=timeout_s,
    )


def firing_alerts(service: Service) -> list[dict[str, Any]]:
    """Alerts firing now, as the API lists them."""
    with service.client() as client:
        response = client.get("/v1/alerts", params={"state": "firing"})
    response.raise_for_status()
    body = response.json()
    items: list[dict[str, Any]] = body["alerts"] if isinstance(body, dict) else body
    return items


@pytest.fixture(scope="session")
def fed_service(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str
) -> Iterator[Service]:
    """A service fed 3 simulated hours of the Double-11 scenario, with alerts firing."""
    tmp_path = tmp_path_factory.mktemp("fed")
    hubs_file = tmp_path / "hubs.jsonl"
    common = ["--scenario", "double11", "--hubs", "60", "--seed", "7"]
    run_simulator(*common, "--target", "none", "--max-events", "0", "--hubs-out", str(hubs_file))
    service = make_service(tmp_path, kafka_bootstrap, hubs_file.read_text(), name="fed")
    service.start()
    try:
        run_simulator(
            *common,
            "--target", "kafka",
            "--speed", "max",
            "--duration", "3h",
            "--bootstrap", kafka_bootstrap,
            "--topic", service.env["PEAKWATCH_EVENTS_TOPIC"],
        )  # fmt: skip
        wait_for(lambda: firing_alerts(service), timeout_s=120, what="a firing alert")
        yield service
    finally:
        service.kill()


@pytest.fixture(scope="session")
def service_url(fed_service: Service) -> str:
    """Base URL of the fed service (for scrapes and dashboards)."""
    return fed_service.url


def call(
    service: Service, key: str | None, method: str, path: str, body: Any = None
) -> httpx.Response:
    """One request to ``service`` with ``key`` as bearer (none when None)."""
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=service.url, headers=headers, timeout=30) as client:
        return client.request(method, path, json=body)
