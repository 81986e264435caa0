"""Steps of the flow model as schema-v1 events, and events as Kafka record bytes.

    EventBuilder(hub_ids, carriers, lane_src, lane_dst)   .frame(step, hidden, report_backlog)
    encode_records(events)                                compact JSON per row, one Polars call

Per hub and minute: one ``arrival`` from outlets (no ``from_hub``), one ``arrival`` per inbound
lane (``from_hub``), one ``departure`` per outbound lane (``to_hub``), one ``departure`` to the
last mile (no ``to_hub``); rows with zero parcels are left out. Arrival and departure counts
cover the minute and are stamped at its middle (hh:mm:30); a ``backlog`` snapshot is stamped on
the minute (hh:mm:00) and counts the parcels on hand at that instant, before the minute's flows.

Event ids are ``{hub_id}-{yyyymmddHHMM Beijing}-{arr|dep}-{other hub or local}`` (trucks
diverted from a failed hub add ``-for-{hub they were bound for}``) and
``{hub_id}-{yyyymmddHHMM}-blg``: unique per carrier and the same on every run.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import numpy.typing as npt
import polars as pl

from core.events import EVENT_SCHEMA, KIND_DTYPE, KINDS, TS_DTYPE
from simulator.model import Step
from simulator.profile import BEIJING_TZ

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

ARRIVAL, DEPARTURE, BACKLOG = 0, 1, 2
COUNT_STAMP_MS = 30_000  # interval counts are stamped at the middle of their minute
_KIND_SERIES = pl.Series("kind", list(KINDS), dtype=KIND_DTYPE)
_TAGS = pl.Series("tag", ["arr", "dep", "blg"])


class EventBuilder:
    """Turns one ``Step`` into an event frame (``EVENT_SCHEMA``), vectorised over hubs and lanes."""

    def __init__(self, hub_ids: list[str], carriers: list[str], lane_src: Ints, lane_dst: Ints):
        """Hub ids and carriers by row number; lane ends as row numbers."""
        self._ids = pl.Series("hub_id", hub_ids, dtype=pl.String)
        self._ids_or_null = pl.Series("other", [*hub_ids, None], dtype=pl.String)
        self._carriers = pl.Series("carrier", carriers, dtype=pl.String)
        self._src = lane_src
        self._dst = lane_dst
        self._none = len(hub_ids)  # index of the null in _ids_or_null

    def frame(self, step: Step, hidden: Bools, *, report_backlog: bool) -> pl.DataFrame:
        """The events of ``step``; ``hidden`` hubs send nothing; snapshots when asked."""
        visible = ~hidden
        hub_parts: list[Ints] = []
        other_parts: list[Ints] = []
        via_parts: list[Ints] = []
        kind_parts: list[Ints] = []
        parcel_parts: list[Ints] = []

        def add(hub: Ints, other: Ints, kind: int, parcels: Ints, via: Ints | None = None) -> None:
            hub_parts.append(hub)
            other_parts.append(other)
            via_parts.append(np.full(hub.shape[0], self._none) if via is None else via)
            kind_parts.append(np.full(hub.shape[0], kind, dtype=np.int64))
            parcel_parts.append(parcels)

        if report_backlog:
            hubs = np.flatnonzero(visible)
            add(hubs, np.full(hubs.shape[0], self._none), BACKLOG, step.backlog_start[hubs])
        hubs = np.flatnonzero((step.collected > 0) & visible)
        add(hubs, np.full(hubs.shape[0], self._none), ARRIVAL, step.collected[hubs])
        lanes = np.flatnonzero((step.lane_arrivals > 0) & visible[step.arrival_dst])
        unloaded = step.arrival_dst[lanes]
        # Trucks diverted from a failed hub: their ids also name the hub they were bound for.
        via = np.where(unloaded != self._dst[lanes], self._dst[lanes], self._none)
        add(unloaded, self._src[lanes], ARRIVAL, step.lane_arrivals[lanes], via)
        lanes = np.flatnonzero((step.lane_departures > 0) & visible[self._src])
        add(self._src[lanes], self._dst[lanes], DEPARTURE, step.lane_departures[lanes])
        hubs = np.flatnonzero((step.delivered > 0) & visible)
        add(hubs, np.full(hubs.shape[0], self._none), DEPARTURE, step.delivered[hubs])
        return self._assemble(
            step.minute,
            np.concatenate(hub_parts),
            np.concatenate(other_parts),
            np.concatenate(via_parts),
            np.concatenate(kind_parts),
            np.concatenate(parcel_parts),
        )

    def _assemble(
        self, minute: int, hub: Ints, other: Ints, via: Ints, kind: Ints, parcels: Ints
    ) -> pl.DataFrame:
        token = datetime.fromtimestamp(minute * 60, tz=BEIJING_TZ).strftime("%Y%m%d%H%M")
        frame = pl.DataFrame(
            {
                "hub_id": self._ids.gather(hub),
                "carrier": self._carriers.gather(hub),
                "other": self._ids_or_null.gather(other),
                "via": self._ids_or_null.gather(via),
                "kind": _KIND_SERIES.gather(kind),
                "tag": _TAGS.gather(kind),
                "parcels": pl.Series(parcels, dtype=pl.Int64),
                "ts": pl.Series(
                    minute * 60_000 + np.where(kind == BACKLOG, 0, COUNT_STAMP_MS), dtype=pl.Int64
                ),
            }
        )
        is_arrival = pl.col("kind") == "arrival"
        is_departure = pl.col("kind") == "departure"
        bound_for = pl.when(pl.col("via").is_not_null()).then(pl.concat_str(pl.lit("-for-"), "via"))
        suffix = (
            pl.when(pl.col("kind") == "backlog")
            .then(pl.lit(""))
            .otherwise(
                pl.concat_str(
                    pl.lit("-"), pl.col("other").fill_null("local"), bound_for.fill_null("")
                )
            )
        )
        return frame.select(
            "carrier",
            event_id=pl.concat_str("hub_id", pl.lit(f"-{token}-"), "tag", suffix),
            hub_id="hub_id",
            ts=pl.col("ts").cast(TS_DTYPE),
            kind="kind",
            parcels="parcels",
            from_hub=pl.when(is_arrival).then("other"),
            to_hub=pl.when(is_departure).then("other"),
        )


def encode_records(events: pl.DataFrame) -> list[bytes]:
    """Compact JSON of each event (``ts`` in epoch ms), as ``HubEvent.to_record`` writes it.

    String fields must not need JSON escaping (simulated ids are ASCII letters, digits and -).
    """
    if events.is_empty():
        return []
    optional = [
        pl.when(pl.col(name).is_not_null())
        .then(pl.concat_str(pl.lit(f',"{name}":"'), pl.col(name), pl.lit('"')))
        .otherwise(pl.lit(""))
        for name in ("from_hub", "to_hub")
    ]
    record = pl.concat_str(
        pl.lit('{"event_id":"'),
        pl.col("event_id"),
        pl.lit('","carrier":"'),
        pl.col("carrier"),
        pl.lit('","hub_id":"'),
        pl.col("hub_id"),
        pl.lit('","ts":'),
        pl.col("ts").dt.epoch("ms").cast(pl.String),
        pl.lit(',"kind":"'),
        pl.col("kind").cast(pl.String),
        pl.lit('","parcels":'),
        pl.col("parcels").cast(pl.String),
        *optional,
        pl.lit("}"),
    )
    encoded: list[bytes] = events.select(record.cast(pl.Binary))[:, 0].to_list()
    return encoded


def empty_events() -> pl.DataFrame:
    """An event frame with no rows."""
    return pl.DataFrame(schema=EVENT_SCHEMA)
