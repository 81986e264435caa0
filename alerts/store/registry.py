"""The hub registry in the service database: the current hubs, and every change to them.

hub_registry          one row per hub changed over the API: its spec as JSON (wins over the file)
hub_registry_changes  who changed which hub when, with the spec before and after, in order

    async with db.sessionmaker.begin() as session:
        current = await get_hub_row(session, "ZTO-HZ01", for_update=True)
        change = await put_hub_row(session, spec, principal, wall_now, previous=from_file)
    hubs = await load_registry_rows(session)           # at start: file, then these on top
    changes = await changes_after(session, last_seen)  # a replica's refresh: newer changes only

Hubs of the hubs file that were never changed have no row here: the file stays their source.
``id`` of a change orders every change of every hub, so a replica that remembers the last ``id``
it applied reads only what is new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from alerts.store.models import HubRegistryChangeRow, HubRegistryRow
from core.registry import HubSpec


class Author(Protocol):
    """Who makes a change (``app.api.deps.Principal`` is one)."""

    @property
    def key_id(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class RegistryChange:
    """A recorded change (``GET /v1/hubs/{hub_id}/history`` answers these, newest first)."""

    id: int
    hub_id: str
    at: datetime
    actor: str
    actor_role: str
    actor_key_id: str
    before: HubSpec | None
    after: HubSpec


def _change(row: HubRegistryChangeRow) -> RegistryChange:
    return RegistryChange(
        id=row.id,
        hub_id=row.hub_id,
        at=row.at,
        actor=row.actor,
        actor_role=row.actor_role,
        actor_key_id=row.actor_key_id,
        before=None if row.before is None else HubSpec.model_validate(row.before),
        after=HubSpec.model_validate(row.after),
    )


async def load_registry_rows(session: AsyncSession) -> list[HubSpec]:
    """Every hub changed over the API, as stored now (apply them over the hubs file)."""
    rows = await session.scalars(select(HubRegistryRow).order_by(HubRegistryRow.hub_id))
    return [HubSpec.model_validate(row.spec) for row in rows]


async def get_hub_row(
    session: AsyncSession, hub_id: str, *, for_update: bool = False
) -> HubSpec | None:
    """The stored spec of ``hub_id``, or None when it was never changed over the API.

    ``for_update`` locks the row (PostgreSQL) until the transaction ends, so two writers of one
    hub decide one after the other; SQLite's ``BEGIN IMMEDIATE`` already serialises writers.
    """
    query = select(HubRegistryRow).where(HubRegistryRow.hub_id == hub_id)
    row = await session.scalar(query.with_for_update() if for_update else query)
    return None if row is None else HubSpec.model_validate(row.spec)


async def put_hub_row(
    session: AsyncSession,
    spec: HubSpec,
    principal: Author,
    wall_now: datetime,
    *,
    previous: HubSpec | None = None,
) -> RegistryChange:
    """Store ``spec`` as the hub's current entry and record the change; the change recorded.

    ``before`` is the stored row, or ``previous`` (the hubs file's entry) when the hub was never
    changed over the API. A concurrent first insert of the same hub fails the transaction with
    ``sqlalchemy.exc.IntegrityError``; the caller may retry.
    """
    row = await session.get(HubRegistryRow, spec.hub_id, with_for_update=True)
    before = previous.model_dump() if previous is not None else None
    after = spec.model_dump()
    if row is None:
        row = HubRegistryRow(hub_id=spec.hub_id, version=0)
        session.add(row)
    else:
        before = row.spec
    row.carrier, row.spec, row.version = spec.carrier, after, row.version + 1
    row.updated_at, row.updated_by = wall_now, principal.name
    change = HubRegistryChangeRow(
        hub_id=spec.hub_id,
        at=wall_now,
        actor=principal.name,
        actor_role=principal.role,
        actor_key_id=principal.key_id,
        before=before,
        after=after,
    )
    session.add(change)
    await session.flush()
    return _change(change)


async def hub_history(
    session: AsyncSession, hub_id: str, *, limit: int = 100, before_id: int | None = None
) -> list[RegistryChange]:
    """Changes of ``hub_id``, newest first; ``before_id`` pages back (ids below it)."""
    query = select(HubRegistryChangeRow).where(HubRegistryChangeRow.hub_id == hub_id)
    if before_id is not None:
        query = query.where(HubRegistryChangeRow.id < before_id)
    rows = await session.scalars(query.order_by(HubRegistryChangeRow.id.desc()).limit(limit))
    return [_change(row) for row in rows]


async def changes_after(
    session: AsyncSession, change_id: int, *, limit: int = 10_000
) -> list[RegistryChange]:
    """Changes of every hub with an id above ``change_id``, oldest first (a replica's refresh)."""
    rows = await session.scalars(
        select(HubRegistryChangeRow)
        .where(HubRegistryChangeRow.id > change_id)
        .order_by(HubRegistryChangeRow.id)
        .limit(limit)
    )
    return [_change(row) for row in rows]


async def last_change_id(session: AsyncSession) -> int:
    """The id of the newest change (0 when there is none): where a refresh starts from."""
    newest = await session.scalar(select(func.max(HubRegistryChangeRow.id)))
    return int(newest or 0)
