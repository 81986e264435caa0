"""API keys (admin only): issue one (shown once), revoke one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import AdminDep
from app.keys import ROLE_PATTERN, KeyStore

router = APIRouter(prefix="/v1", tags=["api keys"])


class KeyRequest(BaseModel):
    """The role of the new key."""

    role: Annotated[str, Field(pattern=ROLE_PATTERN, examples=["carrier:ZTO", "regulator"])]


class IssuedKeyOut(BaseModel):
    """A new key. ``key`` is shown only in this response; store it now."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="the key's id, for DELETE /v1/api-keys/{key_id}")
    key: str = Field(description="the secret, sent as Authorization: Bearer <key>")
    role: str = Field(description="admin, regulator, oncall or carrier:<CODE>")
    created_at: datetime = Field(description="when it was issued (RFC 3339)")


def _store(request: Request) -> KeyStore:
    store: KeyStore = request.app.state.keys
    return store


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, response_model=IssuedKeyOut)
async def create_key(body: KeyRequest, request: Request, _: AdminDep) -> IssuedKeyOut:
    """Issue a key for a role: ``admin``, ``regulator``, ``oncall`` or ``carrier:<CODE>``."""
    issued = await _store(request).issue(body.role)
    return IssuedKeyOut(
        id=issued.id, key=issued.key, role=issued.role, created_at=issued.created_at
    )


@router.delete(
    "/api-keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "no live key with this id"}},
)
async def revoke_key(key_id: str, request: Request, _: AdminDep) -> None:
    """Revoke a key; it stops working within seconds on every replica."""
    if not await _store(request).revoke(key_id):
        raise HTTPException(status_code=404, detail=f"no live api key {key_id}")
