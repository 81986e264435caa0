"""API keys: created by admins, shown once, stored as SHA-256 hashes, revocable.

A key looks like ``pw_<key id>_<secret>``; only its hash is stored. The admin key from
``PEAKWATCH_ADMIN_KEY`` is accepted from start (bootstrapping) without being stored.
Lookups are cached briefly so that ingest at tens of thousands of events per second does not hit
the database per request; a revoked key stops working within ``CACHE_TTL_S``. Both caches are
bounded: known keys (``KNOWN_CACHE_SIZE``) and unknown ones (``UNKNOWN_CACHE_SIZE``, so that a
client retrying one wrong key costs one query per ``CACHE_TTL_S``, while a flood of random keys
cannot grow memory).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from app import keys_store
from app.api.deps import Principal, Role

CACHE_TTL_S = 5.0
KNOWN_CACHE_SIZE = 10_000
UNKNOWN_CACHE_SIZE = 1_000
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


_V = TypeVar("_V")


class TtlCache(Generic[_V]):
    """At most ``size`` entries, each kept ``ttl_s``; when full, the least recently used goes.

    Time is passed in (monotonic seconds), so tests need no clock.
    """

    def __init__(self, *, size: int, ttl_s: float) -> None:
        self.size = size
        self.ttl_s = ttl_s
        self._entries: OrderedDict[str, tuple[float, _V]] = OrderedDict()

    def get(self, key: str, now: float) -> _V | None:
        """The value stored for ``key`` less than ``ttl_s`` ago, else None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if now - entry[0] >= self.ttl_s:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: str, value: _V, now: float) -> None:
        """Store ``value``; evict the least recently used entries beyond ``size``."""
        self._entries[key] = (now, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class IssuedKey:
    """A new key: the secret is in ``key`` and is never shown again."""

    id: str
    key: str
    role: str
    created_at: datetime


class KeyStore:
    """The keys of the service database (``app.keys_store``), plus the bootstrap admin key."""

    def __init__(self, engine: AsyncEngine, *, admin_key: str | None = None) -> None:
        self.engine = engine
        self.admin_hash = hash_key(admin_key) if admin_key else None
        self.known: TtlCache[Principal] = TtlCache(size=KNOWN_CACHE_SIZE, ttl_s=CACHE_TTL_S)
        self.unknown: TtlCache[bool] = TtlCache(size=UNKNOWN_CACHE_SIZE, ttl_s=CACHE_TTL_S)

    async def lookup(self, raw_key: str) -> Principal | None:
        """The principal of a key, or None when it is unknown or revoked."""
        digest = hash_key(raw_key)
        if self.admin_hash is not None and hmac.compare_digest(digest, self.admin_hash):
            return Principal(key_id="bootstrap", role="admin")
        now = time.monotonic()
        cached = self.known.get(digest, now)
        if cached is not None:
            return cached
        if self.unknown.get(digest, now):
            return None
        principal = await keys_store.find_live(self.engine, digest)
        if principal is None:
            self.unknown.put(digest, True, now)
        else:
            self.known.put(digest, principal, now)
        return principal

    async def issue(self, role: str) -> IssuedKey:
        """Create a key for ``role``: ``admin``, ``regulator``, ``oncall`` or ``carrier:<CODE>``."""
        name, carrier = parse_role(role)
        key_id = secrets.token_hex(6)
        raw_key = f"pw_{key_id}_{secrets.token_urlsafe(24)}"
        created_at = datetime.now(UTC)
        await keys_store.add(
            self.engine,
            key_id=key_id,
            key_hash=hash_key(raw_key),
            role=name,
            carrier=carrier,
            created_at=created_at,
        )
        return IssuedKey(id=key_id, key=raw_key, role=role, created_at=created_at)

    async def revoke(self, key_id: str) -> bool:
        """Revoke a key; False when there is no such live key."""
        revoked = await keys_store.revoke(self.engine, key_id, datetime.now(UTC))
        self.known.clear()
        return revoked
