"""Steps: each event's evaluation step (natural, late, floor) depends only on its partition's
records before it, never on batching or on how partitions interleave; which steps are due, in
order, and how a long quiet gap is cut short.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.steps import QUIET_STEPS, assign_steps, due_steps
from tests.core.factories import ms

STEP_MS = 60_000
LATENESS_MS = 5 * 60_000


def _records(rows: Sequence[tuple[int, float]]) -> pl.DataFrame:
    """Records in order: (partition, minute after T0), each with its position as ``id``."""
    return pl.DataFrame(
        {
            "id": list(range(len(rows))),
            "partition": [partition for partition, _ in rows],
            "ts_ms": [ms(minute) for _, minute in rows],
        },
        schema={"id": pl.Int64(), "partition": pl.Int32(), "ts_ms": pl.Int64()},
    )


def _assign(
    rows: Sequence[tuple[int, float]],
    *,
    prior_max: dict[int, float] | None = None,
    evaluated: dict[int, float] | None = None,
) -> list[tuple[int, bool]]:
    """(step as ms after T0, late) of each record."""
    stepped = assign_steps(
        _records(rows),
        step_ms=STEP_MS,
        lateness_ms=LATENESS_MS,
        partition_max_ms={p: ms(m) for p, m in (prior_max or {}).items()},
        evaluated_ms={p: ms(m) for p, m in (evaluated or {}).items()},
    )
    return [(step - ms(0), late) for step, late in stepped.select("step_ms", "late").iter_rows()]


def _minutes(minute: float) -> int:
    return round(minute * STEP_MS)


# -- the step of each event ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minute", "step_minute"),
    [
        (0, 1),  # on a step: the next one (step S sees events stamped strictly before S)
        (0.001 / 60, 1),
        (59.999 / 60, 1),
        (1, 2),
        (4.5, 5),
    ],
)
def test_an_event_in_time_goes_to_the_first_step_after_its_own_time(
    minute: float, step_minute: int
) -> None:
    assert _assign([(0, minute)]) == [(_minutes(step_minute), False)]


@pytest.mark.parametrize(
    ("prior_max", "minute", "expected"),
    [
        # the partition has seen minute 10: its watermark is minute 5, step 5 is passed
        (10, 4.5, (6, True)),
        (10, 4.99, (6, True)),
        (10, 5, (6, False)),  # its natural step is 6: not passed yet
        (10, 1, (6, True)),  # however old, the first step after the partition's watermark
        # watermark 5.5: behind it (minute 5.2) but step 6 is not passed, so not late
        (10.5, 5.2, (6, False)),
        (10.5, 4.9, (6, True)),
        (3, 1, (2, False)),  # within the lateness
    ],
)
def test_a_late_event_goes_to_the_first_step_after_its_partition_watermark_and_counts_late(
    prior_max: float, minute: float, expected: tuple[int, bool]
) -> None:
    step_minute, late = expected
    assert _assign([(0, minute)], prior_max={0: prior_max}) == [(_minutes(step_minute), late)]


def test_the_partition_watermark_is_the_highest_time_before_the_event_in_its_own_partition() -> (
    None
):
    rows = [
        (0, 10),
        (1, 20),  # another partition's time does not make partition 0's events late
        (0, 4),  # behind partition 0's 10 − 5
        (1, 4),  # behind partition 1's 20 − 5
        (0, 11),  # itself the newest: in time
        (0, 5.5),  # behind 11 − 5 = 6, which passed its step 6: step 7 is the first after it
        (0, 6),  # on the partition's watermark: its step 7 is not passed yet
    ]
    assert _assign(rows) == [
        (_minutes(11), False),
        (_minutes(21), False),
        (_minutes(6), True),
        (_minutes(16), True),
        (_minutes(12), False),
        (_minutes(7), True),
        (_minutes(7), False),
    ]


def test_the_highest_time_seen_in_earlier_batches_counts_as_before_the_event() -> None:
    assert _assign([(0, 4), (1, 4)], prior_max={0: 10}) == [
        (_minutes(6), True),
        (_minutes(5), False),  # partition 1 has no history: its time alone decides
    ]


@pytest.mark.parametrize(
    ("minute", "expected"),
    [
        (2, (21, True)),  # its own step 3 was evaluated already for the partition
        (19.5, (21, True)),  # step 20 too
        (20, (21, False)),  # its own step is the first not evaluated
        (25, (26, False)),
    ],
)
def test_an_event_never_goes_to_a_step_already_evaluated_for_its_partition(
    minute: float, expected: tuple[int, bool]
) -> None:
    step_minute, late = expected
    assert _assign([(0, minute)], evaluated={0: 20}) == [(_minutes(step_minute), late)]
    assert _assign([(1, minute)], evaluated={0: 20}) == [  # another partition's steps: no floor
        (_minutes(int(minute) + 1), False)
    ]


def test_no_events_give_no_steps() -> None:
    stepped = assign_steps(
        _records([]), step_ms=STEP_MS, lateness_ms=LATENESS_MS, partition_max_ms={}, evaluated_ms={}
    )
    assert stepped.height == 0
    assert {"step_ms", "late"} <= set(stepped.columns)


# -- determinism: interleaving and batching --------------------------------------------------

# Records of 3 partitions over an hour, at whole seconds; many out of order, some beyond the
# lateness.
RECORDS = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 3_600).map(lambda second: second / 60)),
    min_size=1,
    max_size=60,
)


def _by_id(stepped: pl.DataFrame) -> dict[int, tuple[int, bool]]:
    return {row[0]: (row[1], row[2]) for row in stepped.select("id", "step_ms", "late").iter_rows()}


def _assign_in_batches(records: pl.DataFrame, cuts: list[int]) -> pl.DataFrame:
    """As the engine does: each batch after the previous ones, with the highest time seen."""
    partition_max: dict[int, int] = {}
    parts = []
    bounds = [0, *sorted(set(cuts)), records.height]
    for start, stop in itertools.pairwise(bounds):
        batch = records.slice(start, stop - start)
        parts.append(
            assign_steps(
                batch,
                step_ms=STEP_MS,
                lateness_ms=LATENESS_MS,
                partition_max_ms=partition_max,
                evaluated_ms={},
            )
        )
        for partition, max_ms in batch.group_by("partition").agg(pl.col("ts_ms").max()).rows():
            partition_max[partition] = max(partition_max.get(partition, max_ms), max_ms)
    return pl.concat(parts)


@settings(max_examples=60, deadline=None)
@given(rows=RECORDS, data=st.data())
def test_how_partitions_interleave_changes_no_event_step(
    rows: list[tuple[int, float]], data: st.DataObject
) -> None:
    records = _records(rows)
    # another interleaving: the same records of each partition, in the same order among them
    turns = data.draw(st.permutations([partition for partition, _ in rows]))
    queues = {p: records.filter(pl.col("partition") == p) for p in {p for p, _ in rows}}
    taken = dict.fromkeys(queues, 0)
    order = []
    for partition in turns:
        order.append(queues[partition].row(taken[partition], named=True))
        taken[partition] += 1
    interleaved = pl.DataFrame(order, schema=records.schema)

    def steps(frame: pl.DataFrame) -> dict[int, tuple[int, bool]]:
        return _by_id(
            assign_steps(
                frame,
                step_ms=STEP_MS,
                lateness_ms=LATENESS_MS,
                partition_max_ms={},
                evaluated_ms={},
            )
        )

    assert steps(interleaved) == steps(records)


@settings(max_examples=60, deadline=None)
@given(rows=RECORDS, cuts=st.lists(st.integers(1, 59), max_size=8))
def test_batch_boundaries_change_no_event_step(
    rows: list[tuple[int, float]], cuts: list[int]
) -> None:
    records = _records(rows)
    cuts = [cut for cut in cuts if cut < records.height]
    assert _by_id(_assign_in_batches(records, cuts)) == _by_id(_assign_in_batches(records, []))


# -- due steps -------------------------------------------------------------------------------


def _due(
    *,
    last: int | None,
    first_pending: int | None,
    watermark: float | None,
    busy: Sequence[int] = (),
) -> list[int]:
    """``due_steps`` with steps and times in minutes."""
    steps = due_steps(
        last_step_ms=None if last is None else _minutes(last),
        first_pending_step_ms=None if first_pending is None else _minutes(first_pending),
        watermark_ms=None if watermark is None else _minutes(watermark),
        step_ms=STEP_MS,
        busy_steps={_minutes(step) for step in busy},
    )
    return [step // STEP_MS for step in steps]


@pytest.mark.parametrize(
    ("last", "first_pending", "watermark", "busy", "expected"),
    [
        # before any step: from the earliest pending event's step, up to the watermark
        (None, 3, 7.5, [3, 5], [3, 4, 5, 6, 7]),
        (None, 3, 7, [3], [3, 4, 5, 6, 7]),  # the watermark on a step: it is due
        (None, 3, 2.99, [3], []),  # not passed yet
        (None, None, 50, [], []),  # nothing heard: no step
        (None, 3, None, [3], []),  # no watermark yet
        # after a step: the next ones, in order, whatever is pending
        (7, 8, 10.2, [9], [8, 9, 10]),
        (7, None, 9, [], [8, 9]),  # quiet steps are evaluated too (silence is not calm)
        (7, 12, 7.9, [12], []),
        (10, 3, 10.5, [3], []),  # a pending step behind the last one does not go back
    ],
)
def test_due_steps_run_in_order_from_the_last_one_or_the_first_pending_event(
    last: int | None,
    first_pending: int | None,
    watermark: float | None,
    busy: list[int],
    expected: list[int],
) -> None:
    assert _due(last=last, first_pending=first_pending, watermark=watermark, busy=busy) == expected


def test_a_quiet_gap_is_cut_after_quiet_steps_and_its_last_step_stands_for_the_rest() -> None:
    steps = _due(last=0, first_pending=1, watermark=2_000.5, busy=[1])
    assert steps == [*range(1, QUIET_STEPS + 2), 2_000]


def test_a_cut_quiet_gap_goes_on_at_the_next_step_with_events() -> None:
    busy = [1, 1_000, 1_001]
    steps = _due(last=0, first_pending=1, watermark=3_000, busy=busy)
    assert steps == [
        *range(1, QUIET_STEPS + 2),  # 1 with events, then 360 quiet steps
        *range(1_000, 1_001 + QUIET_STEPS + 1),  # the next steps with events, 360 quiet again
        3_000,
    ]


def test_a_quiet_gap_of_exactly_quiet_steps_is_not_cut() -> None:
    end = 1 + QUIET_STEPS + 1
    assert _due(last=0, first_pending=1, watermark=end, busy=[1, end]) == list(range(1, end + 1))
