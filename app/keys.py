"""API keys: created by admins, shown once, stored as SHA-256 hashes, revocable.

A key looks like ``pw_<key id>_<secret>``; only its hash is stored. The admin key from
``PEAKWATCH_ADMIN_KEY`` is accepted from start (bootstrapping) without being stored.
Lookups are cached briefly so that ingest at tens of thousands of events per second does not hit
the database per request; a revoked key stops working within ``CACHE_TTL_S``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.deps import Principal, Role

CACHE_TTL_S = 5.0
ROLE_PATTERN = "^(admin|regulator|oncall|carrier:[A-Z0-9_]{1,16})$"


def hash_key(raw_key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def parse_role(role: str) -> tuple[Role, str | None]:
    """``carrier:ZTO`` → ("carrier", "ZTO"); ``regulator`` → ("regulator", None)."""
    name, _, carrier = role.partition(":")
    if name == "carrier":
        return "carrier", carrier
    if name in ("admin", "regulator", "oncall"):
        return name, None  # type: ignore[return-value]
    raise ValueError(f"unknown role {role!r}")


@dataclass(frozen=True)
class IssuedKey:
    """A new key: the secret is in ``key`` and is never shown again."""

    id: str
    key: str
    role: str
    created_at: datetime


class KeyStore:
    """Keys in the service database (table ``api_keys``), plus the bootstrap admin key."""

    def __init__(self, engine: AsyncEngine, *, admin_key: str | None = None) -> None:
        self.engine = engine
        self.admin_hash = hash_key(admin_key) if admin_key else None
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def lookup(self, raw_key: str) -> Principal | None:
        """The principal of a key, or None when it is unknown or revoked."""
        digest = hash_key(raw_key)
        if self.admin_hash is not None and hmac.compare_digest(digest, self.admin_hash):
            return Principal(key_id="bootstrap", role="admin")
        cached = self._cache.get(digest)
        if cached is not None and time.monotonic() - cached[0] < CACHE_TTL_S:
            return cached[1]
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT id, role, carrier FROM api_keys "
                        "WHERE key_hash = :h AND revoked_at IS NULL"
                    ),
                    {"h": digest},
                )
            ).first()
        principal = (
            None if row is None else Principal(key_id=row.id, role=row.role, carrier=row.carrier)
        )
        self._cache[digest] = (time.monotonic(), principal)
        return principal

    async def issue(self, role: str) -> IssuedKey:
        """Create a key for ``role``: ``admin``, ``regulator``, ``oncall`` or ``carrier:<CODE>``."""
        name, carrier = parse_role(role)
        key_id = secrets.token_hex(6)
        raw_key = f"pw_{key_id}_{secrets.token_urlsafe(24)}"
        created_at = datetime.now(UTC)
        async with self.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO api_keys (id, key_hash, role, carrier, created_at) "
                    "VALUES (:id, :h, :role, :carrier, :created_at)"
                ),
                {
                    "id": key_id,
                    "h": hash_key(raw_key),
                    "role": name,
                    "carrier": carrier,
                    "created_at": created_at,
                },
            )
        return IssuedKey(id=key_id, key=raw_key, role=role, created_at=created_at)

    async def issue_known(self, raw_key: str, role: str) -> None:
        """Store a key chosen by the caller (the demo prints fixed keys); no-op if it exists."""
        name, carrier = parse_role(role)
        digest = hash_key(raw_key)
        async with self.engine.begin() as conn:
            exists = (
                await conn.execute(
                    text("SELECT 1 FROM api_keys WHERE key_hash = :h"), {"h": digest}
                )
            ).first()
            if exists is None:
                await conn.execute(
                    text(
                        "INSERT INTO api_keys (id, key_hash, role, carrier, created_at) "
                        "VALUES (:id, :h, :role, :carrier, :created_at)"
                    ),
                    {
                        "id": secrets.token_hex(6),
                        "h": digest,
                        "role": name,
                        "carrier": carrier,
                        "created_at": datetime.now(UTC),
                    },
                )

    async def revoke(self, key_id: str) -> bool:
        """Revoke a key; False when there is no such live key."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                text("UPDATE api_keys SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL"),
                {"now": datetime.now(UTC), "id": key_id},
            )
        self._cache.clear()
        return bool(result.rowcount)
