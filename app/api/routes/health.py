"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.runtime import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    """Always ``{"status": "ok"}`` while the event loop runs."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: consuming, assigned partitions, caught up within the configured lag",
    responses={503: {"description": "not ready; the body says which condition fails"}},
)
async def readyz(runtime: RuntimeDep) -> Any:
    """200 when this replica consumes, owns partitions and is caught up; else 503 with details."""
    ready, details = runtime.readiness()
    return JSONResponse(status_code=200 if ready else 503, content={"ready": ready, **details})
