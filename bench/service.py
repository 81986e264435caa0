"""Measurements on the real service process (``python -m app.cli serve``).

    recovery(bootstrap, topic, hubs_file, workdir)   kill -9 with 2 h of state, restart, ready
    http_ingest(bootstrap, hubs_file, workdir, body)  wrk posting 1,000-event batches

Recovery is timed from the restart to ``/readyz`` answering 200 (every partition rebuilt from its
checkpoint and replayed to where it stood). A crashed member stays in the consumer group until
its session times out (10 s), so the restart's group join waits for that; the log's timestamps
split the time into joining and rebuilding.
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from app.local_service import LocalService
from bench.common import BenchError, peak_rss_mb, progress

ADMIN_KEY = "bench-admin-key"
CHECKPOINT_INTERVAL_S = 5.0
_ASSIGNED = re.compile(r"recovered in ([0-9.]+) s")


def service(
    bootstrap: str, events_topic: str, hubs_file: Path, workdir: Path, **settings: str
) -> LocalService:
    """A service (not started) consuming ``events_topic`` with topics and a group of its own."""
    return LocalService.isolated(
        bootstrap,
        hubs_file,
        workdir,
        admin_key=ADMIN_KEY,
        events_topic=events_topic,
        settings={
            "PEAKWATCH_EVENTS_PARTITIONS": "12",
            **{f"PEAKWATCH_{key.upper()}": value for key, value in settings.items()},
        },
    )


def _peak_rss_mb(served: LocalService) -> float:
    return peak_rss_mb(served.process.pid) if served.process is not None else 0.0


def recovery(bootstrap: str, topic: str, hubs_file: Path, workdir: Path) -> dict[str, Any]:
    """Replay ``topic`` (2 h of events) cold, let a checkpoint land, kill -9, restart, ready."""
    served = service(
        bootstrap,
        topic,
        hubs_file,
        workdir,
        checkpoint_interval_s=str(CHECKPOINT_INTERVAL_S),
        ready_max_lag_records="0",
    )
    served.start()
    try:
        cold_s = served.wait(timeout_s=600)
        progress(f"recovery: cold replay of the 2 h topic ready in {cold_s:.1f} s; checkpointing")
        time.sleep(CHECKPOINT_INTERVAL_S * 2 + 1)  # a checkpoint at the end of the topic
        cold_rss = _peak_rss_mb(served)
        served.kill()
        served.start()
        warm_s = served.wait(timeout_s=300)
        progress(f"recovery: after kill -9, ready again in {warm_s:.1f} s")
        rebuilt = _ASSIGNED.findall(served.log_path.read_text(errors="replace"))
        warm_rss = _peak_rss_mb(served)
    finally:
        served.stop()
    return {
        "cold_replay_s": cold_s,
        "recovery_s": warm_s,
        "rebuild_s": float(rebuilt[-1]) if rebuilt else None,
        "rss_mb": max(cold_rss, warm_rss),
    }


def http_ingest(
    bootstrap: str,
    hubs_file: Path,
    workdir: Path,
    body_file: Path,
    *,
    seconds: int,
    connections: int,
) -> dict[str, Any]:
    """wrk POSTing ``body_file`` (1,000 events) to /v1/events; events/s and latency per batch."""
    served = service(bootstrap, f"bench-http-{uuid.uuid4().hex[:6]}", hubs_file, workdir)
    served.start()
    script = workdir / "post.lua"
    script.write_text(
        "wrk.method = 'POST'\n"
        f"wrk.headers['Authorization'] = 'Bearer {ADMIN_KEY}'\n"
        "wrk.headers['Content-Type'] = 'application/json'\n"
        f"local f = io.open('{body_file}', 'r')\n"
        "wrk.body = f:read('*a')\n"
        "f:close()\n"
        "function response(status, headers, body)\n"
        "  if status ~= 202 then io.stderr:write('status ' .. status .. '\\n') end\n"
        "end\n",
        encoding="utf-8",
    )
    try:
        served.wait(timeout_s=120)
        events = len(body_file.read_text(encoding="utf-8").split('"event_id"')) - 1
        answer = httpx.post(
            served.url + "/v1/events",
            content=body_file.read_bytes(),
            headers={"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"},
            timeout=30,
        )
        if answer.status_code != 202 or answer.json().get("accepted") != events:
            raise BenchError(f"the batch is not accepted whole: {answer.status_code} {answer.text}")
        finished = subprocess.run(
            [
                "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                "--latency", "-s", str(script), served.url + "/v1/events",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )  # fmt: skip
        rss = _peak_rss_mb(served)
    finally:
        served.stop()
    report = finished.stdout
    requests_per_s = float(re.search(r"Requests/sec:\s+([0-9.]+)", report).group(1))  # type: ignore[union-attr]
    statuses = Counter(
        line.split()[1] for line in finished.stderr.splitlines() if line.startswith("status ")
    )
    return {
        "events_per_batch": events,
        "batches_per_s": requests_per_s,
        "events_per_s": requests_per_s * events,
        "p50_ms": _latency_ms(report, "50%"),
        "p99_ms": _latency_ms(report, "99%"),
        "non_202": sum(statuses.values()),
        "non_202_statuses": dict(statuses),
        "connections": connections,
        "rss_mb": rss,
    }


def _latency_ms(report: str, percentile: str) -> float:
    found = re.search(rf"^\s*{re.escape(percentile)}\s+([0-9.]+)(us|ms|s)\s*$", report, re.M)
    if found is None:
        raise BenchError(f"no {percentile} latency in wrk's report:\n{report}")
    value, unit = float(found.group(1)), found.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
