"""Time ``AlertService.process`` on N hub signals a tick. Not a test: docs/alerting.md cites it.

    .venv/bin/python -m tests.alerts.bench_process sqlite+aiosqlite:////tmp/bench.db 3000

Ticks 0 and 2 are the worst case (every hub starts pending, then every hub fires, with history
and outbox rows); the others are the steady state (every alert's numbers change, all rewritten).
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import timedelta

from alerts.config import AlertingConfig
from alerts.service import AlertService
from storage.db import open_database
from tests.alerts.factories import T0, frame, row

CONFIG = {
    "default_periods": {"pending_s": 10, "clear_s": 60},
    "receivers": [{"type": "webhook", "name": "hook", "url": "http://127.0.0.1:9/x"}],
    "routes": [{"receivers": ["hook"]}],
}


async def main(url: str, hubs: int) -> None:
    db = await open_database(url)
    service = await AlertService.open(
        db=db, config=AlertingConfig.from_mapping(CONFIG), public_url="http://x"
    )
    frames = [
        frame(*(row(f"HUB-{n:05d}", values={"utilization": 0.9 + i / 1e4}) for n in range(hubs)))
        for i in range(6)
    ]
    for i, signals in enumerate(frames):
        started = time.perf_counter()
        changes = await service.process(
            signals, now=T0 + timedelta(seconds=5 * i), owned_hubs=None, evaluates_network=True
        )
        elapsed_ms = (time.perf_counter() - started) * 1000
        print(f"tick {i}: {len(changes)} changes, {elapsed_ms:.0f} ms")
    await service.close()
    await db.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
