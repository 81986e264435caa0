"""A real Prometheus (Debian's ``prometheus``) for integration tests.

    with running_prometheus(["http://127.0.0.1:8000"], workdir=tmp_path) as prometheus:
        prometheus.wait_for_scrape()
        samples = prometheus.query("peakwatch_network_level")

It listens on a free 127.0.0.1 port, scrapes the given targets every second under the job name
``peakwatch`` (the name the dashboards and rules expect), evaluates the given rule files every
second, keeps its data in ``workdir`` and is stopped when the block ends.

``/metrics`` of peakwatch needs a scrape credential: pass ``bearer_token=`` (the service's
``PEAKWATCH_METRICS_TOKEN``, or an admin or regulator key). Prometheus reads it from a file, as
deploy/prometheus/prometheus.example.yml does.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from app.local_kafka import free_port

Sample = dict[str, Any]
"""One result of an instant query: ``{"metric": {labels}, "value": [ts, "value"]}``."""


class PrometheusError(RuntimeError):
    """Prometheus did not start, or refused a query (the message is Prometheus's own)."""


def scrape_config(
    targets: Sequence[str],
    *,
    job: str = "peakwatch",
    interval_s: float = 1.0,
    rule_files: Sequence[Path] = (),
    credentials_file: Path | None = None,
) -> dict[str, Any]:
    """A Prometheus configuration scraping ``targets`` (URLs or ``host:port``) as one job.

    ``credentials_file``: a file holding the bearer token sent with every scrape.
    """
    if not targets:
        raise ValueError("at least one scrape target is needed")
    parsed = [urlsplit(t if "://" in t else f"http://{t}") for t in targets]
    paths = {p.path or "/metrics" for p in parsed}
    schemes = {p.scheme for p in parsed}
    if len(paths) != 1 or len(schemes) != 1:
        raise ValueError(f"targets of one job share scheme and path: {list(targets)}")
    interval = f"{int(interval_s * 1000)}ms"
    job_config: dict[str, Any] = {
        "job_name": job,
        "scheme": schemes.pop(),
        "metrics_path": paths.pop(),
        "static_configs": [{"targets": [p.netloc for p in parsed]}],
    }
    if credentials_file is not None:
        job_config["authorization"] = {
            "type": "Bearer",
            "credentials_file": str(credentials_file.resolve()),
        }
    return {
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": interval,
            "evaluation_interval": interval,
        },
        "rule_files": [str(path.resolve()) for path in rule_files],
        "scrape_configs": [job_config],
    }


@dataclass
class Prometheus:
    """One Prometheus process and its HTTP API."""

    url: str
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))

    def log(self) -> str:
        """The end of Prometheus's own log."""
        path = self.workdir / "prometheus.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        """Return once ``/-/ready`` answers 200; raise with the log if the process died or hung."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise PrometheusError(f"prometheus exited early:\n{self.log()}")
            try:
                if self.client.get(f"{self.url}/-/ready").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise PrometheusError(f"prometheus not ready within {timeout_s} s:\n{self.log()}")

    def query(self, expr: str) -> list[Sample]:
        """Evaluate ``expr`` now; the samples (empty when there is no data).

        Raises ``PrometheusError`` with Prometheus's message when it rejects the expression.
        """
        response = self.client.get(f"{self.url}/api/v1/query", params={"query": expr})
        body = response.json()
        if body.get("status") != "success":
            raise PrometheusError(f"{body.get('errorType')}: {body.get('error')} in: {expr}")
        data = body["data"]
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        result: list[Sample] = data["result"]
        return result

    def targets(self) -> list[dict[str, Any]]:
        """The active scrape targets, with ``health`` and ``lastError``."""
        body = self.client.get(f"{self.url}/api/v1/targets").json()
        targets: list[dict[str, Any]] = body["data"]["activeTargets"]
        return targets

    def wait_for_scrape(self, timeout_s: float = 30.0) -> None:
        """Return once every target has been scraped successfully at least once."""
        deadline = time.monotonic() + timeout_s
        targets: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            targets = self.targets()
            if targets and all(t["health"] == "up" for t in targets):
                return
            time.sleep(0.2)
        states = [(t["scrapeUrl"], t["health"], t.get("lastError")) for t in targets]
        raise PrometheusError(f"targets not scraped within {timeout_s} s: {states}")

    def wait_for_data(self, expr: str, timeout_s: float = 30.0) -> list[Sample]:
        """Poll ``expr`` until it returns samples; raise after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            samples = self.query(expr)
            if samples or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if not samples:
            raise PrometheusError(f"no data within {timeout_s} s for: {expr}")
        return samples

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        self.client.close()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def prometheus_binary() -> str:
    """The ``prometheus`` executable; fails the test with the install command when missing."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail(
            "prometheus is not installed: run `make system-deps` (Debian package prometheus)"
        )
    return binary


@contextmanager
def running_prometheus(
    targets: Sequence[str],
    *,
    workdir: Path,
    rule_files: Sequence[Path] = (),
    job: str = "peakwatch",
    interval_s: float = 1.0,
    bearer_token: str | None = None,
) -> Iterator[Prometheus]:
    """Start Prometheus scraping ``targets`` with ``rule_files``; stop it when the block ends.

    ``bearer_token``: sent with every scrape (written to a file only this user can read).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "prometheus.yml"
    credentials_file = None
    if bearer_token is not None:
        credentials_file = workdir / "scrape.token"
        credentials_file.touch(mode=0o600)
        credentials_file.write_text(bearer_token, encoding="utf-8")
    config = scrape_config(
        targets,
        job=job,
        interval_s=interval_s,
        rule_files=rule_files,
        credentials_file=credentials_file,
    )
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    port = free_port()
    prometheus = Prometheus(url=f"http://127.0.0.1:{port}", workdir=workdir)
    with (workdir / "prometheus.log").open("ab") as log:
        prometheus.process = subprocess.Popen(
            [
                prometheus_binary(),
                f"--config.file={config_path}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1h",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    try:
        prometheus.wait_ready()
        yield prometheus
    finally:
        prometheus.stop()
