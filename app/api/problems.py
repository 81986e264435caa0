"""The error body of API v1 (``{"detail": "..."}``) for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
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


def field_error(where: str, field: str, message: str) -> RequestValidationError:
    """A 422 in FastAPI's own shape (``detail``: a list of ``loc``, ``msg``, ``type``), for a rule
    the models cannot state; ``where`` is ``query``, ``body`` or ``path``."""
    location = (where, *field.split("."))
    return RequestValidationError([{"loc": location, "msg": message, "type": "value_error"}])
