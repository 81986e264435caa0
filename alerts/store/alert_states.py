"""The alerts' states as a delivery pass reads them, beside the outbox rows: which of the alerts it
follows up are acknowledged or still firing, whether a rule fires anywhere, and firing alerts by id.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alerts.model import Alert
from alerts.store import repository
from alerts.store.models import AlertRow

ID_CHUNK = 1000  # ids per IN (…): well under every driver's limit on bound parameters


async def acked_and_firing(
    session: AsyncSession, alert_ids: Collection[str]
) -> tuple[set[str], set[str]]:
    """Of ``alert_ids``: those acknowledged, and those firing now."""
    acked: set[str] = set()
    firing: set[str] = set()
    if not alert_ids:
        return acked, firing
    rows = await session.execute(
        select(AlertRow.id, AlertRow.acked_at, AlertRow.state).where(AlertRow.id.in_(alert_ids))
    )
    for alert_id, acked_at, state in rows:
        if acked_at is not None:
            acked.add(alert_id)
        if state == "firing":
            firing.add(alert_id)
    return acked, firing


async def rule_firing(session: AsyncSession, rule: str) -> bool:
    """Does an alert of ``rule`` fire now (for any subject)?"""
    found = await session.scalar(
        select(AlertRow.id).where(AlertRow.rule == rule, AlertRow.state == "firing").limit(1)
    )
    return found is not None


async def firing_alerts(session: AsyncSession, alert_ids: Collection[str]) -> list[Alert]:
    """The alerts of ``alert_ids`` that fire now, by id."""
    ordered = sorted(alert_ids)
    alerts: list[Alert] = []
    for start in range(0, len(ordered), ID_CHUNK):
        rows = await session.scalars(
            select(AlertRow).where(
                AlertRow.id.in_(ordered[start : start + ID_CHUNK]), AlertRow.state == "firing"
            )
        )
        alerts.extend(repository.to_alert(row) for row in rows)
    return alerts
