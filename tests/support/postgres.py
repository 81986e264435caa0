"""A real PostgreSQL for the test session: Debian's server binaries, a throw-away cluster in a
temp dir on a free loopback port, stopped (and deleted) when the session ends.

PostgreSQL refuses to run as root; when the tests run as root the cluster belongs to the
``postgres`` user and every server command runs through ``runuser -u postgres --``.
``PEAKWATCH_TEST_POSTGRES_URL`` (``postgresql+asyncpg://user@host:port/db``) uses an existing
server instead.

    postgres_server   session: the running server
    postgres_url      per test: a fresh, empty database on it (dropped afterwards)
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

SERVER_USER = "postgres"


def _bin_dir() -> Path:
    preferred = Path("/usr/lib/postgresql/15/bin")
    if (preferred / "initdb").exists():
        return preferred
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL server binaries are not installed (make system-deps)")
    return found[-1].parent


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server; ``url(db)`` is the SQLAlchemy URL of one of its databases."""

    host: str
    port: int
    user: str
    directory: Path | None = None
    _stopped: bool = field(default=False, repr=False)

    def url(self, database: str) -> str:
        """``postgresql+asyncpg://user@host:port/database``."""
        return f"postgresql+asyncpg://{self.user}@{self.host}:{self.port}/{database}"

    def run_client(self, program: str, *args: str) -> None:
        """Run one of the server's client programs (``createdb``, ``dropdb``…) against it."""
        connection = ["-h", self.host, "-p", str(self.port), "-U", self.user]
        subprocess.run(
            [str(_bin_dir() / program), *connection, *args],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def stop(self) -> None:
        """Stop the server and delete its cluster (idempotent)."""
        if self._stopped or self.directory is None:
            return
        self._stopped = True
        _as_server_user(
            [
                str(_bin_dir() / "pg_ctl"),
                "-D",
                str(self.directory / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            check=False,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


def _as_server_user(command: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        command = ["runuser", "-u", SERVER_USER, "--", *command]
    return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)


def start_postgres() -> PostgresServer:
    """initdb a cluster in a fresh temp dir; start it on a free port; wait until it answers."""
    bin_dir = _bin_dir()
    directory = Path(tempfile.mkdtemp(prefix="peakwatch-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, SERVER_USER, SERVER_USER)
    port = free_port()
    data = directory / "data"
    _as_server_user(
        [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", SERVER_USER]
        + ["-E", "UTF8", "--no-locale", "--no-sync"]
    )
    options = (
        f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
    )
    server = PostgresServer(host="127.0.0.1", port=port, user=SERVER_USER, directory=directory)
    atexit.register(server.stop)  # even when the session is interrupted
    started = _as_server_user(
        [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(directory / "server.log")]
        + ["-o", options, "-w", "-t", "60", "start"],
        check=False,
    )
    if started.returncode != 0:
        log = (directory / "server.log").read_text(errors="replace")[-2000:]
        server.stop()
        raise RuntimeError(f"PostgreSQL did not start: {started.stderr}\n{log}")
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL (or the one ``PEAKWATCH_TEST_POSTGRES_URL`` names)."""
    external = os.environ.get("PEAKWATCH_TEST_POSTGRES_URL")
    if external:
        url = make_url(external)
        yield PostgresServer(
            host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username or "postgres"
        )
        return
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh empty database for one test, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    postgres_server.run_client("createdb", name)
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.run_client("dropdb", "--force", "--if-exists", name)
