"""National and province status. A carrier key gets the same views over its own hubs only."""

from __future__ import annotations

import polars as pl
from fastapi import APIRouter

from app.api.deps import Principal, PrincipalDep
from app.api.models.network import NetworkStatus, ProvinceStatus
from app.runtime import RuntimeDep
from core.rollups import national_rollup, province_rollup

router = APIRouter(prefix="/v1", tags=["network"])


def _view(principal: Principal) -> str:
    return f"carrier:{principal.carrier}" if principal.role == "carrier" else "national"


def _states(principal: Principal, states: pl.DataFrame) -> pl.DataFrame:
    if principal.role == "carrier":
        return states.filter(pl.col("carrier") == principal.carrier)
    return states


def _network_level(signals: pl.DataFrame) -> str:
    network = signals.filter(pl.col("rule") == "network_paralysis")
    return "none" if network.height == 0 else str(network["level"].max())


@router.get("/network", response_model=NetworkStatus)
async def network(principal: PrincipalDep, runtime: RuntimeDep) -> NetworkStatus:
    """National totals, hubs per level, key-node shares, the network level and the watermark."""
    snapshot = runtime.snapshot
    rollup = national_rollup(_states(principal, snapshot.hub_states))
    watermark = snapshot.watermark.isoformat() if snapshot.watermark else None
    level = _network_level(snapshot.signals) if principal.role != "carrier" else "none"
    return NetworkStatus(**rollup, view=_view(principal), watermark=watermark, level=level)


@router.get("/provinces", response_model=list[ProvinceStatus])
async def provinces(principal: PrincipalDep, runtime: RuntimeDep) -> list[ProvinceStatus]:
    """Per-province roll-ups, worst first."""
    rows = province_rollup(_states(principal, runtime.snapshot.hub_states)).to_dicts()
    return [ProvinceStatus.model_validate(row) for row in rows]
