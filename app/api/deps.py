"""Dependencies shared by the routes, as ``Annotated`` aliases so signatures read like prose.

PrincipalDep             the caller, from ``Authorization: Bearer <api key>``
require_roles(...)       a dependency that lets only the given roles through
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Literal, Protocol

from fastapi import Depends, HTTPException, Request, status

Role = Literal["admin", "regulator", "oncall", "carrier"]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, its role and, for ``carrier:<CODE>`` keys, the carrier."""

    key_id: str
    role: Role
    carrier: str | None = None

    @property
    def name(self) -> str:
        """How the caller is shown in acknowledgements and logs, e.g. ``oncall:3f2a``."""
        return f"{self.role}:{self.carrier}" if self.carrier else f"{self.role}:{self.key_id}"

    @property
    def rate_subject(self) -> str:
        """Whose rate a request spends: the carrier code for carrier keys (all of a carrier's
        keys share one rate), else the role (``admin``)."""
        return self.carrier if self.role == "carrier" and self.carrier else self.role

    def sees_carrier(self, carrier: str | None) -> bool:
        """A carrier key sees only its own carrier's data; every other role sees all."""
        return self.role != "carrier" or carrier == self.carrier


class KeyLookup(Protocol):
    """What the app needs of the key store to authenticate a request."""

    async def lookup(self, raw_key: str) -> Principal | None: ...


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def get_principal(request: Request) -> Principal:
    """The caller of this request; 401 when the key is missing, malformed, unknown or revoked."""
    header = request.headers.get("authorization", "")
    scheme, _, raw_key = header.partition(" ")
    if scheme.lower() != "bearer" or not raw_key.strip():
        raise _unauthorized("Authorization: Bearer <api key> is required")
    keys: KeyLookup = request.app.state.keys
    principal = await keys.lookup(raw_key.strip())
    if principal is None:
        raise _unauthorized("unknown or revoked api key")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only ``roles`` through (403 for the others)."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail=f"role {principal.role} may not do this; needs one of {', '.join(roles)}",
            )
        return principal

    return check


AdminDep = Annotated[Principal, Depends(require_roles("admin"))]
OnCallDep = Annotated[Principal, Depends(require_roles("admin", "oncall"))]
"""Acknowledge and silence: on-call staff and admins."""
