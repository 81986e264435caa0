"""De-duplication of ``(carrier, event_id)`` over a bounded event-time horizon.

Keys are kept per event-time minute, so that a batch is compared only with the minutes it touches
(a re-sent event carries its original ``ts``) and old minutes are dropped whole. Cost per batch is
proportional to the batch and the minutes it touches, never to the whole horizon.
"""

from __future__ import annotations

import polars as pl

KEY_SCHEMA: dict[str, pl.DataType] = {"key": pl.UInt64(), "partition": pl.Int32()}


def event_keys(events: pl.DataFrame) -> pl.Series:
    """A 64-bit key per event from its carrier and event id."""
    return events.select(
        pl.concat_str([pl.col("carrier"), pl.col("event_id")], separator="\x1f").hash(seed=11)
    ).to_series()


class DedupIndex:
    """Keys seen, per event-time minute."""

    def __init__(self) -> None:
        self.minutes: dict[int, pl.DataFrame] = {}

    def split(self, events: pl.DataFrame) -> tuple[pl.DataFrame, int]:
        """Drop events already seen (or repeated in the batch); remember the rest.

        ``events`` needs ``minute`` and ``partition`` columns. Returns the new events and the
        number of duplicates dropped.
        """
        if events.height == 0:
            return events, 0
        keys = event_keys(events)
        keyed = events.with_columns(_key=keys)
        if keys.n_unique() < keys.len():  # repeats within the batch: the first copy wins
            keyed = keyed.filter(pl.col("_key").is_first_distinct())
        minutes = keyed["minute"].unique().to_list()
        touched = [m for m in minutes if m in self.minutes]
        if touched:
            seen = pl.concat([self.minutes[m] for m in touched]).select(pl.col("key").alias("_key"))
            keyed = keyed.join(seen, on="_key", how="anti", maintain_order="left")
        new_keys = keyed.select(
            pl.col("minute"), pl.col("_key").alias("key"), pl.col("partition").cast(pl.Int32)
        )
        if len(minutes) == 1:  # the usual batch: one minute of events
            parts = {int(minutes[0]): new_keys}
        else:
            parts = {int(m): p for (m,), p in new_keys.partition_by("minute", as_dict=True).items()}
        for minute, part in parts.items():
            frame = part.drop("minute")
            old = self.minutes.get(minute)
            self.minutes[minute] = frame if old is None else pl.concat([old, frame])
        return keyed.drop("_key"), events.height - keyed.height

    def prune(self, before_minute: int) -> None:
        """Forget minutes older than ``before_minute``."""
        for minute in [m for m in self.minutes if m < before_minute]:
            del self.minutes[minute]

    def drop_partitions(self, partitions: set[int]) -> None:
        """Forget the keys of ``partitions``."""
        wanted = list(partitions)
        for minute, frame in list(self.minutes.items()):
            kept = frame.filter(~pl.col("partition").is_in(wanted))
            if kept.height:
                self.minutes[minute] = kept
            else:
                del self.minutes[minute]

    def frame(self, partitions: set[int] | None = None) -> pl.DataFrame:
        """All keys as one frame (``minute``, ``key``, ``partition``), for checkpoints."""
        parts = [f.with_columns(minute=pl.lit(m, pl.Int64)) for m, f in self.minutes.items()]
        if not parts:
            return pl.DataFrame(schema={**KEY_SCHEMA, "minute": pl.Int64()})
        frame = pl.concat(parts)
        if partitions is not None:
            frame = frame.filter(pl.col("partition").is_in(list(partitions)))
        return frame

    def load(self, frame: pl.DataFrame) -> None:
        """Add keys from ``frame()`` output."""
        for (minute,), part in frame.partition_by("minute", as_dict=True).items():
            keys = part.select(list(KEY_SCHEMA))
            old = self.minutes.get(int(minute))
            self.minutes[int(minute)] = keys if old is None else pl.concat([old, keys])
