"""Small builders for the core tests: hubs, registries and event frames with readable defaults.

Times are given as minutes (and seconds) after ``T0`` so that a test reads as a timeline.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from core.events import EVENT_SCHEMA
from core.levels import LEVEL_RANK
from core.measures import HUB_STATE_SCHEMA
from core.registry import HubSpec, hubs_frame

T0 = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)
EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "index": pl.UInt32(),
    **EVENT_SCHEMA,
    "partition": pl.Int32(),
}
"""What ``Engine.apply`` takes: decoded events with their batch index and Kafka partition."""


def at(minute: float) -> datetime:
    """``minute`` minutes after ``T0``."""
    return T0 + timedelta(minutes=minute)


def ms(minute: float) -> int:
    """``at(minute)`` as epoch milliseconds."""
    return T0_MS + round(minute * 60_000)


def hub(hub_id: str, **changes: Any) -> dict[str, Any]:
    """A registry row (as a dict) with defaults: 10 000 parcels of storage, 6 000/h sorting."""
    row: dict[str, Any] = {
        "hub_id": hub_id,
        "carrier": "ZTO",
        "name": f"中通{hub_id}",
        "province": "浙江",
        "city": "杭州",
        "lat": 30.0,
        "lon": 120.0,
        "tier": "regional",
        "storage_capacity": 10_000,
        "sort_capacity_per_hour": 6_000,
        "key_node": False,
    }
    row.update(changes)
    return row


def registry(*hubs: dict[str, Any]) -> pl.DataFrame:
    """A registry frame from ``hub()`` rows."""
    return hubs_frame([HubSpec.model_validate(row) for row in hubs])


def event(
    hub_id: str,
    kind: str,
    parcels: int,
    minute: float,
    *,
    event_id: str | None = None,
    carrier: str = "ZTO",
    from_hub: str | None = None,
    to_hub: str | None = None,
    partition: int = 0,
) -> dict[str, Any]:
    """One event at ``minute`` after ``T0``; the event id is derived from its content."""
    return {
        "carrier": carrier,
        "event_id": event_id or f"{hub_id}-{kind}-{ms(minute)}-{from_hub or to_hub or ''}",
        "hub_id": hub_id,
        "ts": at(minute),
        "kind": kind,
        "parcels": parcels,
        "from_hub": from_hub,
        "to_hub": to_hub,
        "partition": partition,
    }


def events(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """An ``Engine.apply`` frame (``EVENTS_SCHEMA``) from ``event()`` rows, indexed in order."""
    frame = pl.DataFrame(
        [{k: v for k, v in row.items() if k != "index"} for row in rows],
        schema={k: v for k, v in EVENTS_SCHEMA.items() if k != "index"},
    )
    return frame.with_row_index("index").select(list(EVENTS_SCHEMA))


def store_events(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Events as ``HubStore.apply`` takes them (with ``ts_ms`` and ``minute``)."""
    return (
        events(rows)
        .with_columns(ts_ms=pl.col("ts").dt.epoch("ms"))
        .with_columns(minute=pl.col("ts_ms") // 60_000)
    )


CALM: dict[str, Any] = {
    "arrivals_total": 1_000,
    "departures_total": 900,
    "backlog": 1_000,
    "utilization": 0.1,
    "arrival_rate_per_min": 10.0,
    "departure_rate_per_min": 10.0,
    "net_inflow_per_min": 0.0,
    "in_transit_parcels": 0,
    "time_to_overflow_s": None,
    "sorting_saturated": False,
    "saturation_ratio": 0.1,
    "arrivals_30m": 300,
    "departures_30m": 300,
    "last_event_at": T0,
    "silent_for_s": 0.0,
    "overflow_level": "none",
    "saturation_level": "none",
    "silent_level": "none",
    "at": T0,
}
"""The measures and levels of a calm hub that reports."""


def hub_states(*rows: dict[str, Any]) -> pl.DataFrame:
    """A hub-state frame (``HUB_STATE_SCHEMA``); each row is ``hub()`` fields, measures and
    levels over ``CALM``, and ``level`` is the worst of the three rule levels."""
    full = []
    for row in rows:
        hub_fields = {k: v for k, v in row.items() if k in hub("x") and k != "hub_id"}
        merged = {**hub(row["hub_id"], **hub_fields), **CALM}
        merged.update({k: v for k, v in row.items() if k not in hub_fields})
        rule_levels = [merged[c] for c in ("overflow_level", "saturation_level", "silent_level")]
        merged.setdefault("level", max(rule_levels, key=lambda level: LEVEL_RANK[level]))
        full.append(merged)
    return pl.DataFrame(full, schema=HUB_STATE_SCHEMA)
