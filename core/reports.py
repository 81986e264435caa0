"""The daily report (一日一报), pure: hub states and per-minute buckets in → hourly rows out;
hourly rows of a day in → the report's frames out.

    hour_rows(states, minutes)           one row per (hour, hub) of a run of steps (HOUR_SCHEMA)
    count_rows(minutes, attributes)      the counts alone, for hubs known from earlier rows
    step_rows(states)                    the same for one step, without grouping (hot path)
    merge_hours(rows)                    rows of the same (hour, hub) folded into one
    fold_rows(held, new)                 the same for two frames, without grouping when aligned
    day_report(rows, day=, previous=)    totals, 24-hour curve, peak hour, hub table, levels, …

An hour ``H`` holds the minutes ``H ≤ minute < H+1h`` (arrivals, departures from the buckets)
and the steps ``H < step ≤ H+1h`` (the state *at the end* of a minute, so the step at 24:00
closes the day's last hour). Merging keeps the largest count and maximum (late events only add
to a minute; a bucket already pruned only lowers a recount) and the backlog of the latest step,
so writing the same rows again — a replay, a restart, another replica — changes nothing.

The day is 00:00–24:00 Beijing time (+08:00): 24 whole hours, 16:00 UTC the day before to
16:00 UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import polars as pl

from core.levels import LEVEL_DTYPE, LEVEL_RANK, LEVELS

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
HOUR_MS = 3_600_000
TS = pl.Datetime("ms", "UTC")
HOUR_SCHEMA: dict[str, pl.DataType] = {
    "hour_start": TS,
    "hub_id": pl.String(),
    "carrier": pl.String(),
    "province": pl.String(),
    "storage_capacity": pl.Int64(),
    "arrivals": pl.Int64(),
    "departures": pl.Int64(),
    "backlog_end": pl.Int64(),  # at the hour's last step seen (``backlog_end_at``)
    "backlog_end_at": TS,
    "backlog_max": pl.Int64(),
    "level_rank": pl.Int8(),  # the worst level (core.levels.LEVEL_RANK) of the hour's steps
    "silent_max_s": pl.Float64(),
}
"""One hub's hour, as the store keeps it (``hub_hours``); nulls where no step was seen."""

_RANK_TO_LEVEL = {rank: level for level, rank in LEVEL_RANK.items()}
CLOSEST_HUBS = 10


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants of 00:00 and 24:00 Beijing time of ``day``."""
    start = datetime(day.year, day.month, day.day, tzinfo=BEIJING).astimezone(UTC)
    return start, start + timedelta(days=1)


def hour_rows(states: pl.DataFrame, minutes: pl.DataFrame) -> pl.DataFrame:
    """``states``: hub states of the steps of a run (``HUB_STATE_SCHEMA``, ``at`` = step);
    ``minutes``: the buckets (hub_id, minute, arrivals, departures) of the hours to count.
    One row per (hour, hub) seen in either (``HOUR_SCHEMA``), attributes from ``states``."""
    at_ms = pl.col("at").dt.epoch("ms")
    stepped = (
        states.lazy()
        .with_columns(
            hour_start=((at_ms - 1) // HOUR_MS * HOUR_MS).cast(TS),
            hub_id=pl.col("hub_id").cast(pl.String),
            level_rank=pl.col("level").cast(pl.String).replace_strict(LEVEL_RANK, default=-1),
        )
        .sort("at")
        .group_by("hour_start", "hub_id")
        .agg(
            backlog_end=pl.col("backlog").last(),
            backlog_end_at=pl.col("at").last(),
            backlog_max=pl.col("backlog").max(),
            level_rank=pl.col("level_rank").max().cast(pl.Int8),
            silent_max_s=pl.col("silent_for_s").max(),
        )
    )
    attributes = states.lazy().select(
        pl.col("hub_id").cast(pl.String), "carrier", "province", "storage_capacity"
    )
    return _rows(stepped, _counted(minutes), attributes.unique("hub_id", keep="last"))


def count_rows(minutes: pl.DataFrame, attributes: pl.DataFrame) -> pl.DataFrame:
    """Rows of counts only (``HOUR_SCHEMA``, nulls for the state columns): the hours of
    ``minutes``, for the hubs of ``attributes`` (hub_id, carrier, province, storage_capacity)."""
    stepped = pl.LazyFrame(
        schema={name: HOUR_SCHEMA[name] for name in ("hour_start", "hub_id", *_STATE_COLUMNS)}
    )
    hubs = attributes.lazy().select("hub_id", "carrier", "province", "storage_capacity")
    return _rows(stepped, _counted(minutes), hubs.unique("hub_id", keep="last"))


_STATE_COLUMNS = ("backlog_end", "backlog_end_at", "backlog_max", "level_rank", "silent_max_s")


def _counted(minutes: pl.DataFrame) -> pl.LazyFrame:
    return (
        minutes.lazy()
        .with_columns(
            hour_start=(pl.col("minute") * 60_000 // HOUR_MS * HOUR_MS).cast(TS),
            hub_id=pl.col("hub_id").cast(pl.String),
        )
        .group_by("hour_start", "hub_id")
        .agg(pl.col("arrivals").sum(), pl.col("departures").sum())
    )


def _rows(stepped: pl.LazyFrame, counted: pl.LazyFrame, hubs: pl.LazyFrame) -> pl.DataFrame:
    return (
        stepped.join(counted, on=["hour_start", "hub_id"], how="full", coalesce=True)
        .join(hubs, on="hub_id", how="inner")
        .with_columns(pl.col("arrivals", "departures").fill_null(0))
        .select([pl.col(name).cast(dtype) for name, dtype in HOUR_SCHEMA.items()])
        .sort("hour_start", "hub_id")
        .collect()
    )


def step_rows(states: pl.DataFrame) -> pl.DataFrame:
    """The rows of one step's hub states (``HOUR_SCHEMA``, counts 0): what ``hour_rows``
    gives for a single step, without grouping (a hub has one row per step)."""
    at_ms = pl.col("at").dt.epoch("ms")
    return states.select(
        ((at_ms - 1) // HOUR_MS * HOUR_MS).cast(TS).alias("hour_start"),
        pl.col("hub_id").cast(pl.String),
        "carrier",
        "province",
        pl.col("storage_capacity").cast(pl.Int64),
        pl.lit(0, pl.Int64).alias("arrivals"),
        pl.lit(0, pl.Int64).alias("departures"),
        pl.col("backlog").alias("backlog_end"),
        pl.col("at").cast(TS).alias("backlog_end_at"),
        pl.col("backlog").alias("backlog_max"),
        (pl.col("level").cast(LEVEL_DTYPE).to_physical().cast(pl.Int8) - 1).alias("level_rank"),
        pl.col("silent_for_s").alias("silent_max_s"),
    )


def fold_rows(held: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """``merge_hours`` of two frames; without grouping when they hold the same (hour, hub)
    keys in the same order (the rows of the next step of the same hour)."""
    aligned = (
        held.height == new.height
        and held["hub_id"].equals(new["hub_id"])
        and held["hour_start"].equals(new["hour_start"])
    )
    if held.height == 0:
        return new
    if not aligned:  # the new rows' order first, so that the next step's rows line up
        return merge_hours(pl.concat([new, held]), sort=False)
    new_at, held_at = new["backlog_end_at"].dt.epoch("ms"), held["backlog_end_at"].dt.epoch("ms")
    later = new_at.is_not_null() & (new_at >= held_at.fill_null(-1))
    return held.with_columns(
        *(pl.max_horizontal(pl.col(name), new[name]).alias(name) for name in _MAXIMA),
        new["carrier"],
        new["province"],
        new["storage_capacity"],
        pl.when(later).then(new["backlog_end"]).otherwise(pl.col("backlog_end")),
        pl.when(later).then(new["backlog_end_at"]).otherwise(pl.col("backlog_end_at")),
    )


_MAXIMA = ("arrivals", "departures", "backlog_max", "level_rank", "silent_max_s")


def merge_hours(rows: pl.DataFrame, *, sort: bool = True) -> pl.DataFrame:
    """Rows of the same (hour, hub) folded as the store's upsert folds them: largest counts
    and maxima, the backlog of the latest step. Sorted by hour and hub, or (``sort=False``)
    in the order each (hour, hub) first appears."""
    latest = pl.col("backlog_end_at")
    merged = (
        rows.lazy()
        .group_by("hour_start", "hub_id", maintain_order=not sort)
        .agg(
            pl.col("carrier", "province", "storage_capacity").last(),
            pl.col(*_MAXIMA).max(),
            pl.col("backlog_end").sort_by(latest, nulls_last=False).last(),
            latest.max(),
        )
        .select(list(HOUR_SCHEMA))
    )
    return (merged.sort("hour_start", "hub_id") if sort else merged).collect()


@dataclass(frozen=True)
class DayFrames:
    """The numbers of one day's report (before any wording)."""

    arrivals_total: int
    departures_total: int
    backlog_at_end: int
    backlog_max: int
    peak_hour: str | None  # "HH:00" Beijing time; None on a day without arrivals
    hourly: pl.DataFrame  # 24 rows: hour ("HH:00"), arrivals, departures, backlog
    hubs: pl.DataFrame  # one row per hub: totals, backlogs, utilization_max, level, silent_s
    levels_worst: dict[str, int]  # hubs per worst level of the day
    closest: pl.DataFrame  # the hubs closest to overflow (highest utilization_max first)
    silent: pl.DataFrame  # hub_id, silent_s: hubs silent at least ``silent_after_s``


def day_report(rows: pl.DataFrame, *, day: date, silent_after_s: float) -> DayFrames:
    """The report of ``day`` from its hourly rows (``HOUR_SCHEMA``, already narrowed to the
    reader's hubs and province)."""
    start, end = day_bounds(day)
    rows = rows.filter(pl.col("hour_start") >= start, pl.col("hour_start") < end)
    hours = pl.DataFrame(
        {
            "hour_start": pl.datetime_range(
                start, end, "1h", closed="left", eager=True, time_unit="ms", time_zone="UTC"
            )
        }
    )
    hourly = (
        hours.join(
            rows.group_by("hour_start").agg(
                pl.col("arrivals", "departures").sum(),
                backlog=pl.col("backlog_end").sum(),
            ),
            on="hour_start",
            how="left",
        )
        .fill_null(0)
        .sort("hour_start")
        .select(
            pl.col("hour_start")
            .dt.convert_time_zone("Asia/Shanghai")
            .dt.strftime("%H:00")
            .alias("hour"),
            pl.col("arrivals", "departures", "backlog").cast(pl.Int64),
        )
    )
    hubs = _hub_table(rows)
    peak = hourly.filter(pl.col("arrivals") > 0).sort(
        "arrivals", descending=True, maintain_order=True
    )
    counts = dict(hubs.group_by("level").len().iter_rows())
    return DayFrames(
        arrivals_total=int(hubs["arrivals"].sum()),
        departures_total=int(hubs["departures"].sum()),
        backlog_at_end=int(hubs["backlog_end"].sum()),
        backlog_max=int(hourly["backlog"].max() or 0),  # type: ignore[arg-type]
        peak_hour=str(peak["hour"][0]) if peak.height else None,
        hourly=hourly,
        hubs=hubs,
        levels_worst={level: int(counts.get(level, 0)) for level in LEVELS},
        closest=hubs.filter(pl.col("utilization_max") > 0)
        .sort("utilization_max", "hub_id", descending=[True, False])
        .head(CLOSEST_HUBS),
        silent=hubs.filter(pl.col("silent_s") >= silent_after_s)
        .sort("silent_s", "hub_id", descending=[True, False])
        .select("hub_id", "silent_s"),
    )


def _hub_table(rows: pl.DataFrame) -> pl.DataFrame:
    latest = pl.col("backlog_end_at")
    return (
        rows.group_by("hub_id")
        .agg(
            pl.col("carrier", "province", "storage_capacity").last(),
            pl.col("arrivals", "departures").sum(),
            pl.col("backlog_end").sort_by(latest, nulls_last=False).last(),
            pl.col("backlog_max").max(),
            pl.col("level_rank").max(),
            pl.col("silent_max_s").max().alias("silent_s"),
        )
        .with_columns(
            pl.col("backlog_end", "backlog_max").fill_null(0),
            pl.col("silent_s").fill_null(0.0),
            level=pl.col("level_rank")
            .fill_null(-1)
            .replace_strict(_RANK_TO_LEVEL, return_dtype=pl.String),
            utilization_max=pl.when(pl.col("storage_capacity") > 0)
            .then(pl.col("backlog_max").fill_null(0) / pl.col("storage_capacity"))
            .otherwise(0.0),
        )
        .select(
            "hub_id",
            "carrier",
            "province",
            "arrivals",
            "departures",
            "backlog_end",
            "backlog_max",
            "storage_capacity",
            "utilization_max",
            "level",
            "silent_s",
        )
        .sort("hub_id")
    )


@dataclass(frozen=True)
class DayChange:
    """Against the day before: its totals, and the change in per cent (None from zero)."""

    arrivals_total: int
    departures_total: int
    backlog_at_end: int
    arrivals_change_pct: float | None
    departures_change_pct: float | None


def day_change(today: DayFrames, before: DayFrames) -> DayChange | None:
    """The change of ``today`` against ``before``; None when the store holds nothing of it."""
    if before.hubs.height == 0:
        return None

    def pct(now: int, then: int) -> float | None:
        return None if then == 0 else round((now - then) * 100 / then, 1)

    return DayChange(
        arrivals_total=before.arrivals_total,
        departures_total=before.departures_total,
        backlog_at_end=before.backlog_at_end,
        arrivals_change_pct=pct(today.arrivals_total, before.arrivals_total),
        departures_change_pct=pct(today.departures_total, before.departures_total),
    )
