"""Schemathesis against the running service's own OpenAPI: no 5xx, no answer that breaks it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.service import hub_line

pytestmark = pytest.mark.integration

ST = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "st"


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
