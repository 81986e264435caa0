"""Faster service starts: let ``peakwatch serve`` processes share compiled bytecode.

This machine's environment sets ``PYTHONDONTWRITEBYTECODE``, so every process compiles FastAPI,
SQLAlchemy, pydantic and the project from source: about 10 s of CPU per start, 3 s with
bytecode. A test that starts many services passes ``bytecode_env(directory)`` in their settings:
bytecode goes to ``directory`` (never into the repository or the venv), and ``warm`` fills it
once before several services start at the same time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.local_service import REPO_ROOT


def bytecode_env(directory: Path) -> dict[str, str]:
    """Settings for a service process: write and read bytecode under ``directory``."""
    return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(directory)}


def warm(directory: Path, *, timeout_s: float = 180.0) -> None:
    """Compile what ``peakwatch serve`` imports into ``directory`` (one process, once)."""
    subprocess.run(
        [sys.executable, "-c", "import app.main, app.cli"],
        cwd=REPO_ROOT,
        env={**os.environ, **bytecode_env(directory)},
        check=True,
        timeout=timeout_s,
    )
