"""One ``peakwatch serve`` process on this machine, for tests and benchmarks.

    LocalService.isolated(bootstrap, hubs_file, workdir, admin_key=…)   own topics, group, SQLite
    service.start(); service.wait("/readyz", timeout_s=60) -> seconds; service.stop() / kill()

``isolated`` gives the process topics, a consumer group and a database of its own (a random
suffix), so several can share one broker without seeing each other.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.local_kafka import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent


class ServiceNotUpError(RuntimeError):
    """The process exited, or did not answer 200 in time."""


@dataclass
class LocalService:
    """A service process: its URL, environment and log file."""

    url: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def isolated(
        cls,
        bootstrap: str,
        hubs_file: Path,
        workdir: Path,
        *,
        admin_key: str,
        suffix: str | None = None,
        events_topic: str | None = None,
        settings: dict[str, str] | None = None,
    ) -> LocalService:
        """A service (not started) with topics, group and SQLite file of its own.

        ``settings``: more ``PEAKWATCH_*`` variables, which win over these defaults.
        """
        suffix = suffix or uuid.uuid4().hex[:8]
        port = free_port()
        env = {
            **os.environ,
            "PEAKWATCH_KAFKA_BOOTSTRAP": bootstrap,
            "PEAKWATCH_HTTP_PORT": str(port),
            "PEAKWATCH_HUBS_FILE": str(hubs_file),
            "PEAKWATCH_ADMIN_KEY": admin_key,
            "PEAKWATCH_DB_URL": f"sqlite+aiosqlite:///{workdir / f'peakwatch-{suffix}.db'}",
            "PEAKWATCH_EVENTS_TOPIC": events_topic or f"hub-events-{suffix}",
            "PEAKWATCH_DLQ_TOPIC": f"hub-events-dlq-{suffix}",
            "PEAKWATCH_STATUS_TOPIC": f"hub-status-{suffix}",
            "PEAKWATCH_CHECKPOINT_TOPIC": f"hub-state-checkpoints-{suffix}",
            "PEAKWATCH_CONSUMER_GROUP": f"peakwatch-{suffix}",
            **(settings or {}),
        }
        return cls(f"http://127.0.0.1:{port}", env, workdir / f"service-{suffix}.log")

    def start(self) -> None:
        """Start the process, its output appended to ``log_path``."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve"],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait(self, path: str = "/readyz", *, timeout_s: float = 60.0) -> float:
        """Seconds until ``path`` answers 200; ServiceNotUpError with the last answer if not."""
        started = time.monotonic()
        last = "no answer"
        while time.monotonic() - started < timeout_s:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                raise ServiceNotUpError(f"service exited with {code}:\n{self.log()}")
            try:
                answer = httpx.get(self.url + path, timeout=2)
                if answer.status_code == 200:
                    return time.monotonic() - started
                last = f"{answer.status_code} {answer.text}"
            except httpx.HTTPError as error:
                last = repr(error)
            time.sleep(0.1)
        raise ServiceNotUpError(
            f"service not up at {self.url}{path} within {timeout_s} s (last answer: {last}):\n"
            f"{self.log()}"
        )

    def stop(self) -> None:
        """SIGTERM and wait (a clean shutdown checkpoints and leaves the group)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: no checkpoint, no commit, no goodbye."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log(self) -> str:
        """The last lines of the service's log."""
        return self.log_path.read_text(errors="replace")[-4000:]
