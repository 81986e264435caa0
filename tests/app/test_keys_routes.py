"""``POST /v1/api-keys`` and ``DELETE /v1/api-keys/{id}`` on the service database (SQLite and a real
PostgreSQL): an admin issues a key that works at once, revokes it and it is refused; other roles
may not issue keys."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.api.routes import keys
from app.keys import KeyStore
from storage.db import Database
from tests.support.database import database, database_url
from tests.support.postgres import postgres_server, postgres_url

__all__ = ["database", "database_url", "postgres_server", "postgres_url"]

ADMIN_KEY = "admin-from-the-environment"


@pytest.fixture
async def api(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    service = FastAPI()
    service.include_router(keys.router)
    service.state.keys = KeyStore(database.engine, admin_key=ADMIN_KEY)
    transport = httpx.ASGITransport(app=service)
    async with httpx.AsyncClient(transport=transport, base_url="http://peakwatch") as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_an_issued_key_works_at_once_and_is_refused_once_revoked(
    api: httpx.AsyncClient,
) -> None:
    created = await api.post("/v1/api-keys", json={"role": "admin"}, headers=bearer(ADMIN_KEY))
    assert created.status_code == 201
    issued = created.json()
    assert issued["role"] == "admin"
    # The new key is an admin's: it can issue a key itself.
    second = await api.post("/v1/api-keys", json={"role": "oncall"}, headers=bearer(issued["key"]))
    assert second.status_code == 201

    revoked = await api.delete(f"/v1/api-keys/{issued['id']}", headers=bearer(ADMIN_KEY))
    assert revoked.status_code == 204
    refused = await api.post("/v1/api-keys", json={"role": "oncall"}, headers=bearer(issued["key"]))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "unknown or revoked api key"
    again = await api.delete(f"/v1/api-keys/{issued['id']}", headers=bearer(ADMIN_KEY))
    assert again.status_code == 404


async def test_only_admins_issue_and_revoke_keys(api: httpx.AsyncClient) -> None:
    created = await api.post(
        "/v1/api-keys", json={"role": "carrier:ZTO"}, headers=bearer(ADMIN_KEY)
    )
    carrier_key, carrier_key_id = created.json()["key"], created.json()["id"]
    issue = await api.post("/v1/api-keys", json={"role": "admin"}, headers=bearer(carrier_key))
    assert issue.status_code == 403
    revoke = await api.delete(f"/v1/api-keys/{carrier_key_id}", headers=bearer(carrier_key))
    assert revoke.status_code == 403


async def test_a_role_outside_the_four_is_refused(api: httpx.AsyncClient) -> None:
    answer = await api.post("/v1/api-keys", json={"role": "root"}, headers=bearer(ADMIN_KEY))
    assert answer.status_code == 422
