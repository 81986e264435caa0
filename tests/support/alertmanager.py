"""A real Prometheus Alertmanager for the test session (Debian's ``prometheus-alertmanager``),
on a free loopback port with its own config and storage in a temp dir, clustering off; stopped
when the session ends.

    alertmanager          session: the running server (``.url``)
    alertmanager_alerts   what it holds now, filtered by label matchers (through its own API)
"""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

BINARY = "prometheus-alertmanager"
CONFIG = """\
route:
  receiver: blackhole
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: blackhole
"""


@dataclass
class AlertmanagerServer:
    """A running Alertmanager."""

    url: str
    process: subprocess.Popen[bytes]
    directory: Path

    def stop(self) -> None:
        """Terminate (then kill) the process and delete its directory (idempotent)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_alertmanager(timeout_s: float = 30.0) -> AlertmanagerServer:
    """Start Alertmanager and return once ``/-/ready`` answers 200."""
    binary = shutil.which(BINARY)
    if binary is None:
        pytest.skip(f"{BINARY} is not installed (make system-deps)")
    directory = Path(tempfile.mkdtemp(prefix="peakwatch-am-"))
    (directory / "alertmanager.yml").write_text(CONFIG)
    port = _free_port()
    with (directory / "alertmanager.log").open("wb") as log:  # the child keeps its own handle
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={directory / 'alertmanager.yml'}",
                f"--storage.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = AlertmanagerServer(
        url=f"http://127.0.0.1:{port}", process=process, directory=directory
    )
    atexit.register(server.stop)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{server.url}/-/ready", timeout=1.0).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    output = (directory / "alertmanager.log").read_text(errors="replace")[-2000:]
    server.stop()
    raise RuntimeError(f"Alertmanager did not become ready:\n{output}")


@pytest.fixture(scope="session")
def alertmanager() -> Iterator[AlertmanagerServer]:
    """The session's Alertmanager."""
    server = start_alertmanager()
    try:
        yield server
    finally:
        server.stop()


async def alertmanager_alerts(url: str, **matchers: str) -> list[dict[str, Any]]:
    """Alerts Alertmanager holds now (active, silenced, inhibited, unprocessed), by label."""
    params = [("filter", f'{name}="{value}"') for name, value in matchers.items()]
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(f"{url}/api/v2/alerts", params=params)
    response.raise_for_status()
    alerts: list[dict[str, Any]] = response.json()
    return alerts
