"""Rendering and texts sit below the integrations: importing them loads no notifier, so the old
cycle (texts → notify → alertmanager → render → texts) cannot come back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
INTEGRATIONS = {
    f"alerts.notify.{name}"
    for name in ("alertmanager", "build", "dingtalk", "email", "feishu", "webhook", "wecom")
}


@pytest.mark.parametrize(
    "module", ["alerts.notify.base", "alerts.notify.texts", "alerts.notify.render"]
)
def test_rendering_loads_no_integration(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import sys, {module}; print(*sorted(sys.modules))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert not INTEGRATIONS & set(done.stdout.split())
