"""The local Apache Kafka broker: jars from Maven Central, KRaft single node, plain JVM process.

No Docker engine runs on our machines, so development, tests, benchmarks and the demo start the
broker themselves:

    ensure_jars()      mvn dependency:copy-dependencies on deploy/kafka/pom.xml, once, into a cache
    start(state_dir)   format KRaft storage (first time), start the JVM, wait until it takes clients
    stop(state_dir)    SIGTERM, wait for a clean shutdown (SIGKILL after a timeout)

A state directory holds ``server.properties``, ``data/``, ``logs/``, ``broker.pid`` and
``bootstrap`` (the address). Starting again in the same directory reuses its port and data, so a
restarted broker keeps its topics and offsets. Why Kafka 3.9.1: docs/kafka.md.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError, RetryableError

KAFKA_VERSION = "3.9.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
POM = REPO_ROOT / "deploy" / "kafka" / "pom.xml"
LOG4J = REPO_ROOT / "deploy" / "kafka" / "log4j.properties"
DEFAULT_STATE_DIR = Path(".peakwatch") / "kafka"
START_TIMEOUT_S = 90.0
# Brokers started by this process: kept so that their Popen objects live as long as the broker
# and are waited on when stopped (no zombies, no "subprocess still running" warnings).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
STOP_TIMEOUT_S = 30.0


def cache_dir() -> Path:
    """Where the broker's jars live: ``$PEAKWATCH_CACHE`` or ``~/.cache/peakwatch``."""
    root = os.environ.get("PEAKWATCH_CACHE") or Path.home() / ".cache" / "peakwatch"
    return Path(root) / f"kafka-{KAFKA_VERSION}" / "lib"


@dataclass(frozen=True)
class Broker:
    """A running local broker."""

    bootstrap: str
    pid: int
    state_dir: Path


def ensure_jars() -> Path:
    """Resolve the broker's jars with Maven into the cache (once); return the lib directory."""
    lib = cache_dir()
    marker = lib / ".complete"
    if marker.exists():
        return lib
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ConfigError("Maven (mvn) is needed to fetch the Kafka broker; install Maven 3")
    lib.mkdir(parents=True, exist_ok=True)
    command = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={lib}",
        "-DincludeScope=runtime",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ConfigError(f"mvn could not resolve Kafka {KAFKA_VERSION}:\n{result.stdout[-2000:]}")
    marker.write_text(KAFKA_VERSION)
    return lib


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _server_properties(state_dir: Path, port: int, controller_port: int, partitions: int) -> str:
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={state_dir / 'data'}",
            f"num.partitions={partitions}",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=4",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            # Tests and the demo start consumers right after the broker; don't make them wait 3 s.
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=false",
            "log.retention.hours=168",
            "log.segment.bytes=268435456",
            "",
        ]
    )


def _read_pid(state_dir: Path) -> int | None:
    try:
        pid = int((state_dir / "broker.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def _accepts_clients(bootstrap: str, timeout_s: float) -> bool:
    """True once the broker answers a metadata request (not just an open port)."""
    # A short-lived synchronous probe keeps this module free of asyncio; the Kafka wire format of
    # ApiVersions v0 is tiny and stable across every broker version.
    host, _, port = bootstrap.rpartition(":")
    request = (18).to_bytes(2, "big") + (0).to_bytes(2, "big") + (1).to_bytes(4, "big")
    request += (len("probe")).to_bytes(2, "big") + b"probe"
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s) as conn:
            conn.sendall(len(request).to_bytes(4, "big") + request)
            size = int.from_bytes(conn.recv(4), "big")
            body = conn.recv(size)
    except OSError:
        return False
    # correlation id (4 bytes) then error code (2 bytes): 0 means the broker is serving.
    return len(body) >= 6 and body[4:6] == b"\x00\x00"


def new_cluster_id() -> str:
    """A random KRaft cluster id (URL-safe base64 of a UUID) that does not start with "-".

    The storage tool would read such an id as an option (one start in 64 failed that way);
    Kafka's own ``Uuid.randomUuid`` skips those ids too.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def start(
    state_dir: Path = DEFAULT_STATE_DIR,
    *,
    port: int | None = None,
    partitions: int = 12,
    heap_mb: int = 768,
) -> Broker:
    """Start (or find running) the broker of ``state_dir``; return once it takes clients."""
    state_dir = state_dir.resolve()
    bootstrap_file = state_dir / "bootstrap"
    running = _read_pid(state_dir)
    if running is not None and bootstrap_file.exists():
        return Broker(bootstrap_file.read_text().strip(), running, state_dir)
    lib = ensure_jars()
    java = shutil.which("java")
    if java is None:
        raise ConfigError("Java 17+ is needed to run the Kafka broker")
    properties = state_dir / "server.properties"
    if not properties.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        properties.write_text(_server_properties(state_dir, port, free_port(), partitions))
        bootstrap_file.write_text(f"127.0.0.1:{port}")
    bootstrap = bootstrap_file.read_text().strip()
    logs = state_dir / "logs"
    logs.mkdir(exist_ok=True)
    java_base = [
        java,
        f"-Xms{heap_mb // 2}m",
        f"-Xmx{heap_mb}m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dkafka.logs.dir={logs}",
        f"-Dlog4j.configuration=file:{LOG4J}",
        "-cp",
        f"{lib}/*",
    ]
    if not (state_dir / "data" / "meta.properties").exists():
        cluster_id = new_cluster_id()
        storage_tool = [*java_base, "kafka.tools.StorageTool", "format", "-t", cluster_id]
        formatted = subprocess.run(
            [*storage_tool, "-c", str(properties), "--ignore-formatted"],
            capture_output=True,
            text=True,
            check=False,
        )
        if formatted.returncode != 0:
            raise ConfigError(f"formatting KRaft storage failed:\n{formatted.stderr[-2000:]}")
    with (logs / "stdout.log").open("ab") as out:
        process = subprocess.Popen(
            [*java_base, "kafka.Kafka", str(properties)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in a terminal goes to us; we stop the broker cleanly
        )
    _CHILDREN[process.pid] = process
    (state_dir / "broker.pid").write_text(str(process.pid))
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RetryableError(f"the broker exited with {process.returncode}; see {logs}")
        if _accepts_clients(bootstrap, timeout_s=1.0):
            return Broker(bootstrap, process.pid, state_dir)
        time.sleep(0.3)
    stop(state_dir)
    raise RetryableError(
        f"the broker did not take clients within {START_TIMEOUT_S:.0f} s; see {logs}"
    )


def stop(state_dir: Path = DEFAULT_STATE_DIR, *, kill: bool = False) -> bool:
    """Stop the broker of ``state_dir`` (SIGKILL right away with ``kill``); False if none ran."""
    state_dir = state_dir.resolve()
    pid = _read_pid(state_dir)
    if pid is None:
        return False
    os.kill(pid, signal.SIGKILL if kill else signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        _reap(pid)
        time.sleep(0.2)
    else:
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        child.wait(timeout=STOP_TIMEOUT_S)
    (state_dir / "broker.pid").unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    """Collect the exit status if the broker is our child, so it does not linger as a zombie."""
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is not None:
            del _CHILDREN[pid]
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
