"""The OpenAPI lists every field each endpoint serves (checked against what core produces), and
schemathesis against the running service's own OpenAPI: no 5xx, no answer that breaks it."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from app.api.models.network import NetworkStatus
from app.main import create_app
from app.settings import Settings
from core.engine import HUB_STATE_SCHEMA, hub_series
from core.rollups import national_rollup, province_rollup
from core.state import BUCKET_SCHEMA
from core.vocabulary import RULES
from tests.alerts.factories import alert
from tests.support.service import hub_line, wait_for

# the read endpoints of issue 15's contracts: health, network, provinces, hubs, alerts, silences
READ_PATHS = r"^/(healthz|readyz|v1/(network|provinces|hubs.*|alerts(/\{alert_id\}.*)?|silences))$"

ST = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "st"


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    document: dict[str, Any] = create_app(Settings()).openapi()
    return document


def _fields(openapi: dict[str, Any], path: str, method: str = "get") -> set[str]:
    """The properties OpenAPI promises for the 2xx JSON answer of ``method path``."""
    responses = openapi["paths"][path][method]["responses"]
    ok = next(body for code, body in responses.items() if code.startswith("2"))
    schema = ok["content"]["application/json"]["schema"]
    schema = schema.get("items", schema)
    name = schema["$ref"].rsplit("/", 1)[1]
    component = openapi["components"]["schemas"][name]
    assert component.get("additionalProperties") is False, f"{name} allows undeclared fields"
    return set(component["properties"])


def _schema(openapi: dict[str, Any], name: str) -> set[str]:
    return set(openapi["components"]["schemas"][name]["properties"])


def test_every_json_answer_declares_a_closed_model(openapi: dict[str, Any]) -> None:
    loose = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            for code, body in operation["responses"].items():
                schema = body.get("content", {}).get("application/json", {}).get("schema")
                if code.startswith("2") and schema is not None:
                    target = schema.get("items", schema)
                    if "$ref" not in target:
                        loose.append(f"{method} {path} {code}")
    assert loose == []


def test_network_and_provinces_list_every_field_core_serves(openapi: dict[str, Any]) -> None:
    states = pl.DataFrame(schema=HUB_STATE_SCHEMA)
    served = set(national_rollup(states)) | {"view", "watermark", "level"}
    assert _fields(openapi, "/v1/network") == served
    assert _fields(openapi, "/v1/provinces") == set(province_rollup(states).columns)


def test_hubs_list_every_measure_of_a_hub(openapi: dict[str, Any]) -> None:
    assert _fields(openapi, "/v1/hubs") == {"total", "limit", "offset", "hubs"}
    assert _schema(openapi, "HubState") == set(HUB_STATE_SCHEMA)
    assert _fields(openapi, "/v1/hubs/{hub_id}") == set(HUB_STATE_SCHEMA) | {"series"}
    series = hub_series(
        pl.DataFrame(schema=BUCKET_SCHEMA), pl.DataFrame(schema=HUB_STATE_SCHEMA), "x"
    )
    assert _schema(openapi, "SeriesPoint") == set(series.columns)


def test_alerts_list_every_field_of_an_alert(openapi: dict[str, Any]) -> None:
    served = set(alert().as_json()) | {"mitigations", "warnings"}
    assert _fields(openapi, "/v1/alerts/{alert_id}") == served
    assert _fields(openapi, "/v1/alerts") == {"alerts", "next_cursor"}


def test_the_alert_example_shows_numbers_its_rule_writes(openapi: dict[str, Any]) -> None:
    (example,) = openapi["components"]["schemas"]["AlertOut"]["examples"]
    assert example["values"]
    assert set(example["values"]) <= set(RULES[example["rule"]].shown)


def test_readiness_lists_every_condition_it_reports(openapi: dict[str, Any]) -> None:
    assert _fields(openapi, "/readyz") == {
        "ready",
        "consuming",
        "assigned_partitions",
        "caught_up",
        "lag_records",
        "network_view_loaded",
    }


@pytest.mark.integration
def test_the_api_keeps_its_openapi_promises(service_factory: object, tmp_path: Path) -> None:
    service = service_factory(hub_line("ZTO-HZ01", "ZTO"))  # type: ignore[operator]
    service.start()
    result = subprocess.run(
        [str(ST), "run", f"{service.url}/openapi.json"]
        + ["--checks", "not_a_server_error,response_schema_conformance,content_type_conformance"]
        + ["--header", f"Authorization: Bearer {service.admin_key}"]
        + ["--exclude-path", "/v1/alerts/stream", "--phases", "examples,fuzzing"]
        + ["--max-examples", "15", "--generation-deterministic", "--request-timeout", "20"]
        + ["--workers", "1", "--suppress-health-check", "all"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert service.process is not None
    assert service.process.poll() is None


@pytest.mark.integration
def test_the_read_endpoints_serve_what_they_declare(
    service_factory: object, tmp_path: Path
) -> None:
    """Schemathesis on the GET endpoints only, against a service whose hubs have real state
    (arrivals and departures posted and consumed), so every served field meets its schema."""
    service = service_factory(hub_line("ZTO-HZ01", "ZTO") + "\n" + hub_line("YTO-SH01", "YTO"))  # type: ignore[operator]
    service.start()
    now_ms = int(time.time() * 1000)
    events = [
        {
            "event_id": f"e{i}",
            "carrier": "ZTO",
            "hub_id": "ZTO-HZ01",
            "ts": now_ms - 60_000 * (i % 20),
            "kind": "arrival" if i % 3 else "departure",
            "parcels": 50,
        }
        for i in range(120)
    ]
    with service.client() as api:
        assert api.post("/v1/events", json={"events": events}).json()["accepted"] == 120
        wait_for(
            lambda: api.get("/v1/network").json()["hubs_reporting"] == 1,
            what="the posted events in /v1/network",
        )
        network = NetworkStatus.model_validate(api.get("/v1/network").json())
        assert network.arrivals_30m > 0
    result = subprocess.run(
        [str(ST), "run", f"{service.url}/openapi.json"]
        + ["--checks", "not_a_server_error,response_schema_conformance,content_type_conformance"]
        + ["--header", f"Authorization: Bearer {service.admin_key}"]
        + ["--include-path-regex", READ_PATHS, "--exclude-method-regex", "^(POST|PUT|DELETE)$"]
        + ["--exclude-path", "/v1/alerts/stream", "--phases", "examples,fuzzing"]
        + ["--max-examples", "10", "--generation-deterministic", "--request-timeout", "20"]
        + ["--workers", "1", "--suppress-health-check", "all"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    selected = re.search(r"Selected: (\d+)/", result.stdout)
    assert selected is not None
    assert int(selected.group(1)) == 11, result.stdout[-3000:]  # every read endpoint was tried
