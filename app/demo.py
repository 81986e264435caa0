"""``make demo``: a local broker, one service and the Double-11 simulator, until Ctrl-C.

Prints the URLs and one demo API key per role, as ``PEAKWATCH_DEMO_KEY_<ROLE>=<key>``, then the
simulator's progress. ``--seconds N`` stops by itself after N seconds (used by the tests).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app import demo_day, local_kafka
from simulator.placement import CARRIERS

STATE = Path(".peakwatch")
DEMO_ADMIN_KEY = "demo-admin-key"  # local demo only: never use a fixed key in production
SCENARIO = "double11"
SPEED = 120.0  # two simulated minutes per second: the first alerts within two minutes
HUBS = 300
SEED = "11"


def _say(message: str) -> None:
    print(f"demo: {message}", file=sys.stderr, flush=True)


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"demo: the service exited ({process.returncode}); see {STATE}/demo/")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"demo: the service did not answer within {timeout_s:.0f} s")


def _issue_keys(url: str) -> dict[str, str]:
    roles = {"REGULATOR": "regulator", "ONCALL": "oncall"}
    roles |= {f"CARRIER_{code}": f"carrier:{code}" for code in CARRIERS}
    keys = {"ADMIN": DEMO_ADMIN_KEY}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {DEMO_ADMIN_KEY}"}) as http:
        for name, role in roles.items():
            response = http.post("/v1/api-keys", json={"role": role})
            response.raise_for_status()
            keys[name] = response.json()["key"]
    return keys


def _port(preferred: int) -> int:
    import socket

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    return local_kafka.free_port()


def run(seconds: float | None, speed: float, hubs: int) -> int:
    """Run the demo; return the exit code."""
    demo_dir = STATE / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    _say("starting the local Kafka broker (first run downloads its jars with Maven) …")
    broker = local_kafka.start(STATE / "kafka")
    hubs_file = demo_dir / "hubs.jsonl"
    # The simulator writes the registry of the very network it will simulate.
    subprocess.run(
        [sys.executable, "-m", "app.cli", "simulate", "--scenario", SCENARIO, "--seed", SEED]
        + ["--hubs", str(hubs), "--target", "none", "--max-events", "0", "--quiet"]
        + ["--hubs-out", str(hubs_file)],
        check=True,
    )
    port = _port(int(os.environ.get("PEAKWATCH_HTTP_PORT", "8000")))
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PEAKWATCH_KAFKA_BOOTSTRAP": broker.bootstrap,
        "PEAKWATCH_HTTP_PORT": str(port),
        "PEAKWATCH_HUBS_FILE": str(hubs_file),
        "PEAKWATCH_ADMIN_KEY": DEMO_ADMIN_KEY,
        "PEAKWATCH_DB_URL": f"sqlite+aiosqlite:///{demo_dir / 'peakwatch.db'}",
        "PEAKWATCH_CONSUMER_GROUP": f"peakwatch-demo-{int(time.time())}",
        "PEAKWATCH_EVENTS_TOPIC": f"hub-events-demo-{int(time.time())}",
        "PEAKWATCH_STATUS_TOPIC": f"hub-status-demo-{int(time.time())}",
        "PEAKWATCH_CHECKPOINT_TOPIC": f"hub-state-checkpoints-demo-{int(time.time())}",
        "PEAKWATCH_STATUS_PUBLISH_INTERVAL_S": "1.0",
    }
    (demo_dir / "peakwatch.db").unlink(missing_ok=True)  # every demo starts a fresh night
    service_log = (demo_dir / "service.log").open("wb")
    service = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"], env=env, stdout=service_log, stderr=service_log
    )
    simulator: subprocess.Popen[bytes] | None = None
    try:
        _say(f"starting the service on {url} (log: {demo_dir / 'service.log'}) …")
        _wait_ready(url, service)
        keys = _issue_keys(url)
        print(f"API docs:    {url}/docs")
        print(f"Live board:  {url}/?key={keys['REGULATOR']}")
        print(f"Metrics:     {url}/metrics")
        print(f"Kafka:       {broker.bootstrap} (topic {env['PEAKWATCH_EVENTS_TOPIC']})")
        day = demo_day.seed(url, keys, hubs_file)
        for line in demo_day.describe(day):
            print(line)
        print(
            f"Daily report: {demo_day.report_url(url, day.report_date)} (Bearer: the REGULATOR key)"
        )
        for role, key in keys.items():
            print(f"PEAKWATCH_DEMO_KEY_{role}={key}")
        sys.stdout.flush()
        simulator = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "simulate", "--scenario", SCENARIO]
            + ["--speed", str(speed), "--target", "kafka", "--seed", SEED, "--hubs", str(hubs)]
            + ["--bootstrap", broker.bootstrap, "--topic", env["PEAKWATCH_EVENTS_TOPIC"]]
            + ["--url", url, "--api-key", keys["REGULATOR"]],
            env=env,
        )
        _say("simulating Double-11 night; Ctrl-C stops everything")
        deadline = None if seconds is None else time.monotonic() + seconds
        while deadline is None or time.monotonic() < deadline:
            if service.poll() is not None:
                _say(f"the service exited ({service.returncode}); see {demo_dir / 'service.log'}")
                return 1
            time.sleep(0.5)
        return 0
    except KeyboardInterrupt:
        _say("stopping …")
        return 0
    finally:
        for process in (simulator, service):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        local_kafka.stop(STATE / "kafka")
        service_log.close()
        _say("stopped: broker, service and simulator")


def main() -> int:
    """Entry point of ``python -m app.demo``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, help="stop by itself after this many seconds")
    parser.add_argument("--speed", type=float, default=SPEED, help="simulated seconds per second")
    parser.add_argument("--hubs", type=int, default=HUBS, help="hubs in the synthetic network")
    args = parser.parse_args()
    return run(args.seconds, args.speed, args.hubs)


if __name__ == "__main__":
    sys.exit(main())
