"""Evaluation points in event time: which step each event belongs to, and which steps are due.

Rules and the alert lifecycle run at fixed steps of event time (``evaluation_step_s``, default
60 s). Step ``S`` sees every event stamped before ``S`` that its partition delivered before that
partition's own watermark passed ``S``; the watermark of the whole engine is the slowest
partition's, so step ``S`` is evaluated once every partition has passed it.

An event's step depends only on its partition's records before it (Kafka keeps their order), never
on how records were batched or how partitions interleaved, so a live feed, a replay at full
speed, a catch-up after ``kill -9`` and a split across replicas all put each event in the same
step:

    natural step   the first step after the event's own time (``ts < S``)
    late event     its partition's watermark (highest time seen before it, less the allowed
                   lateness) had already passed that step: it goes to the first step after that
                   watermark instead (counted as late, applied all the same)
    floor          never a step this engine has already evaluated for the partition (only binds
                   when an idle partition was skipped over: live-only, see ``due_steps``)
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

QUIET_STEPS = 360
"""Steps evaluated one by one after the last step with events; a longer gap with no events at
all (a feed stopped for hours) jumps to its end: by then rates, silence levels and alert periods
are all stationary, so the steps in between would decide nothing new."""


def assign_steps(
    events: pl.DataFrame,
    *,
    step_ms: int,
    lateness_ms: int,
    partition_max_ms: Mapping[int, int],
    evaluated_ms: Mapping[int, int],
) -> pl.DataFrame:
    """``events`` (in record order, with ``ts_ms`` and ``partition``), plus ``step_ms`` and
    ``late``."""
    if events.height == 0:
        return events.with_columns(step_ms=pl.lit(None, pl.Int64), late=pl.lit(None, pl.Boolean))
    known = pl.DataFrame(
        {"partition": list(partition_max_ms), "_prior_max": list(partition_max_ms.values())},
        schema={"partition": pl.Int32(), "_prior_max": pl.Int64()},
    )
    floors = pl.DataFrame(
        {
            "partition": list(evaluated_ms),
            "_floor": [ms + step_ms for ms in evaluated_ms.values()],
        },
        schema={"partition": pl.Int32(), "_floor": pl.Int64()},
    )
    ts = pl.col("ts_ms")
    seen_before = ts.cum_max().shift(1).over("partition")
    partition_watermark = pl.max_horizontal(seen_before, "_prior_max") - lateness_ms
    natural = (ts // step_ms + 1) * step_ms
    after_watermark = (partition_watermark // step_ms + 1) * step_ms
    return (
        events.with_columns(pl.col("partition").cast(pl.Int32))
        .join(known, on="partition", how="left", maintain_order="left")
        .join(floors, on="partition", how="left", maintain_order="left")
        .with_columns(_natural=natural, _after=after_watermark)
        .with_columns(step_ms=pl.max_horizontal("_natural", "_after", "_floor"))
        .with_columns(late=pl.col("step_ms") > pl.col("_natural"))
        .drop("_prior_max", "_floor", "_natural", "_after")
    )


def due_steps(
    *,
    last_step_ms: int | None,
    first_pending_step_ms: int | None,
    watermark_ms: int | None,
    step_ms: int,
    busy_steps: set[int],
) -> list[int]:
    """The steps to evaluate now, in order: after ``last_step_ms`` up to the watermark.

    Before any step, the first is the earliest pending event's. A run of more than
    ``QUIET_STEPS`` steps without events (``busy_steps`` holds the steps that have some) is
    cut short: its last step stands for the rest.
    """
    if watermark_ms is None:
        return []
    last_due = watermark_ms // step_ms * step_ms
    if last_step_ms is None:
        if first_pending_step_ms is None:
            return []
        start = first_pending_step_ms
    else:
        start = last_step_ms + step_ms
    if start > last_due:
        return []
    steps: list[int] = []
    quiet = 0
    step = start
    while step <= last_due:
        if step in busy_steps:
            quiet = 0
        else:
            quiet += 1
        if quiet <= QUIET_STEPS:
            steps.append(step)
            step += step_ms
            continue
        upcoming = [s for s in busy_steps if step < s <= last_due]
        step = min(upcoming) if upcoming else last_due
        if step not in steps:
            steps.append(step)
        if step == last_due:
            break
        quiet = 0
        step += step_ms
    return steps
