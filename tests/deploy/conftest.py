"""Fixtures for the deploy checks: the repo's paths, the dashboard generator, kustomize."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
K8S = DEPLOY / "k8s"
OVERLAYS = ("dev", "prod")
RULE_FILES = sorted((DEPLOY / "prometheus").glob("*.rules.yml"))


def import_deploy_script(folder: str, name: str) -> ModuleType:
    """Import a script that lives under deploy/ (they import their neighbours by plain name)."""
    path = str(DEPLOY / folder)
    if path not in sys.path:
        sys.path.insert(0, path)
    __import__(name)
    return sys.modules[name]


@pytest.fixture(scope="session")
def grafana() -> ModuleType:
    """deploy/grafana/generate.py as a module."""
    return import_deploy_script("grafana", "generate")


@pytest.fixture(scope="session")
def kustomize_bin() -> str:
    """The pinned kustomize, built once per machine by scripts/install-tools.sh."""
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "install-tools.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"scripts/install-tools.sh could not provide kustomize:\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


def kustomize_build(kustomize: str, directory: Path) -> list[dict[str, Any]]:
    """``kustomize build directory`` as a list of resources."""
    done = subprocess.run(
        [kustomize, "build", str(directory)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"kustomize build {directory} failed:\n{done.stderr}"
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="session")
def built_overlays(kustomize_bin: str) -> dict[str, list[dict[str, Any]]]:
    """Every overlay, built: ``{"dev": [...], "prod": [...]}``."""
    return {name: kustomize_build(kustomize_bin, K8S / "overlays" / name) for name in OVERLAYS}


def load_yaml(path: Path) -> Any:
    """One YAML document."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))
