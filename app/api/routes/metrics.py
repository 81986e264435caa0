"""``GET /metrics``: Prometheus exposition, for a scrape credential only.

Per-hub series name carriers and their numbers (backlog, capacity, rates, levels), and the
service's port is the one couriers reach through the ingress, so the answer needs one of:

- the bearer token of ``PEAKWATCH_METRICS_TOKEN`` (what Prometheus sends), compared in constant
  time and without a key lookup, so scrapes never load the key store;
- an ``admin`` or ``regulator`` API key (also the only way in while no token is configured).

Anything else: 401 without a known credential, 403 for the other roles (carriers, on-call).
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from app.api.deps import Role, get_principal
from app.runtime import RuntimeDep

router = APIRouter(tags=["metrics"])

SCRAPE_ROLES: tuple[Role, ...] = ("admin", "regulator")


def token_matches(presented: str, expected: str) -> bool:
    """Whether ``presented`` is ``expected``, in time independent of where they differ.

    Both are hashed first, so not even the token's length shows in the timing.
    """
    return hmac.compare_digest(
        hashlib.sha256(presented.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


def _bearer(request: Request) -> str | None:
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credential.strip() or None


async def require_scrape_credential(request: Request, runtime: RuntimeDep) -> None:
    """Let through the metrics token or an admin/regulator key; 401 or 403 for anything else."""
    token = runtime.settings.metrics_token
    presented = _bearer(request)
    if (
        token is not None
        and presented is not None
        and token_matches(presented, token.get_secret_value())
    ):
        return
    principal = await get_principal(request)
    if principal.role not in SCRAPE_ROLES:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=(
                f"role {principal.role} may not read /metrics; needs the metrics token "
                f"or one of {', '.join(SCRAPE_ROLES)}"
            ),
        )


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(require_scrape_credential)])
async def prometheus_metrics(runtime: RuntimeDep) -> Response:
    """Every metric family of docs/metrics.md, in the Prometheus text format."""
    return Response(generate_latest(runtime.metrics_registry), media_type=CONTENT_TYPE_LATEST)
