"""Nothing lost: the receiver is down, the service is killed (SIGKILL) while notifications are
pending; when both come back, every pending notification arrives exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.config import AlertingConfig
from alerts.service import AlertService
from storage.db import open_database
from tests.alerts.notify.receiver import RobotReceiver
from tests.alerts.outbox_worker import config
from tests.support.postgres import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
ALERTS = 30


def run_worker_then_kill(store_url: str, receiver_url: str) -> None:
    """Start the worker, wait until its notifications are pending, SIGKILL it."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.alerts.outbox_worker", store_url, receiver_url, str(ALERTS)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "READY"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        if worker.stdout is not None:
            worker.stdout.close()


@pytest.mark.integration
async def test_pending_notifications_survive_a_kill_and_arrive_once(store_url: str) -> None:
    port = free_port()
    receiver_url = f"http://127.0.0.1:{port}"
    await asyncio.to_thread(run_worker_then_kill, store_url, receiver_url)

    robots = RobotReceiver(port=port).start()
    db = await open_database(store_url)
    service = await AlertService.open(
        db=db, config=AlertingConfig.from_mapping(config(receiver_url)), public_url="http://pw"
    )
    try:
        later = datetime.now(UTC) + timedelta(minutes=10)  # past the worker's back-off and lease
        for step in range(5):
            await service.deliver_due(wall_now=later + timedelta(seconds=step))
    finally:
        await service.close()
        await db.close()
        robots.stop()

    delivered = Counter(
        item["alert"]["subject"]
        for request in robots.accepted("/hook")
        for item in request.json()["items"]
    )
    assert delivered == Counter({f"HUB-{n:03d}": 1 for n in range(ALERTS)})
    assert all(r.accepted for r in robots.received)
