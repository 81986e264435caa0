"""The error body of API v1 (``{"detail": "..."}``) for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """Why a request was refused, in words the caller can act on."""

    detail: str = Field(examples=["hub_id in the body must match the path"])


def problems(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries with the ``Problem`` body for ``codes``."""
    return {
        code: {"model": Problem, "description": descriptions.get(f"s{code}", "refused")}
        for code in codes
    }
