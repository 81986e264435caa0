"""A service process for the restart test: fires N alerts, tries to deliver them to a receiver
that is down, says READY, and keeps trying until it is killed.

    python -m tests.alerts.outbox_worker DB_URL RECEIVER_URL COUNT
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

from alerts.config import AlertingConfig
from alerts.service import AlertService
from storage.db import open_database
from tests.alerts.factories import T0, frame, row


def config(receiver_url: str) -> dict[str, Any]:
    """The alerting config both the worker and the test's second service use."""
    return {
        "default_periods": {"pending_s": 0, "clear_s": 0},
        "receivers": [
            {
                "type": "webhook",
                "name": "hook",
                "url": f"{receiver_url}/hook",
                "secret": "webhook-secret",
            }
        ],
        "routes": [{"receivers": ["hook"], "group_wait_s": 0, "group_interval_s": 0}],
        "ack_link_secret": "restart-test",
    }


async def main(db_url: str, receiver_url: str, count: int) -> None:
    db = await open_database(db_url)
    service = await AlertService.open(
        db=db, config=AlertingConfig.from_mapping(config(receiver_url)), public_url="http://pw"
    )
    rows = [row(f"HUB-{n:03d}", "red") for n in range(count)]
    await service.process(frame(*rows), now=T0, owned_hubs=None, evaluates_network=True)
    await service.deliver_due(wall_now=datetime.now(UTC))
    print("READY", flush=True)
    while True:
        await service.deliver_due(wall_now=datetime.now(UTC))
        await asyncio.sleep(0.2)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
