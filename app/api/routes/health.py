"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.models.health import Liveness, Readiness
from app.runtime import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> Liveness:
    """Always ``{"status": "ok"}`` while the event loop runs."""
    return Liveness(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: consuming, assigned partitions, caught up within the configured lag",
    responses={503: {"model": Readiness, "description": "not ready; the body says which fails"}},
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """200 when this replica consumes, owns partitions and is caught up; else 503 with details."""
    ready, details = runtime.readiness()
    body = Readiness.model_validate({"ready": ready, **details})
    return JSONResponse(
        status_code=200 if ready else 503, content=body.model_dump(exclude_unset=True)
    )
