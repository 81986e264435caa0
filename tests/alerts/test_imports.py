"""Every module of the project imports on its own, in a fresh interpreter (no hidden cycles that
work only because a caller happened to import something else first)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for package in ("alerts", "app", "consumers", "core", "storage")
    for path in (ROOT / package).rglob("*.py")
    if "migrations" not in path.parts
)


@pytest.mark.parametrize("module", MODULES)
def test_a_module_imports_on_its_own(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
