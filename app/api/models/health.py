"""``GET /healthz`` and ``GET /readyz``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Liveness(BaseModel):
    """The process answers."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok"]


class Readiness(BaseModel):
    """Whether this replica is ready, and each condition of it (absent before it consumes)."""

    model_config = ConfigDict(extra="forbid")

    ready: bool
    consuming: bool = Field(description="the Kafka consumer runs")
    assigned_partitions: list[int] | None = Field(
        None, description="partitions of hub-events this replica owns"
    )
    caught_up: bool | None = Field(None, description="read up to the end offsets once")
    lag_records: int | None = Field(None, description="records behind the end offsets")
    network_view_loaded: bool | None = Field(
        None, description="the other replicas' hub states have been read"
    )
