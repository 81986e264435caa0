"""Engine: event time (watermark, steps, late events, idleness, future skew), de-duplication, hub
states and signals as of each step, series, checkpoints and partitions; the same events in any
batching give the same steps.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from core.config import RiskConfig
from core.engine import ApplyResult, Engine, StepResult, hub_series
from core.events import REJECT_SCHEMA
from core.signals import SIGNAL_SCHEMA
from tests.core.factories import at, event, events, hub, registry

HUBS = registry(
    hub("A"),
    hub("B", key_node=True, storage_capacity=20_000),
    hub("C", province="江苏"),
    hub("D", province="江苏"),  # never reports
)
PARTITION = {"A": 0, "B": 1, "C": 0, "D": 1}


def _on(hub_id: str, kind: str, parcels: int, minute: float, **kw: Any) -> dict[str, Any]:
    return event(hub_id, kind, parcels, minute, partition=PARTITION[hub_id], **kw)


def _engine(*batches: list[dict[str, Any]]) -> Engine:
    engine = Engine(HUBS)
    for rows in batches:
        engine.apply(events(rows), now=at(60 * 24))
    return engine


def _feed(engine: Engine, rows: list[dict[str, Any]]) -> tuple[ApplyResult, list[StepResult]]:
    """Ingest ``rows`` as one batch and run the steps it completes."""
    result = engine.ingest(events(rows), now=at(60 * 24))
    return result, engine.run_due_steps()


def _row(states: pl.DataFrame, hub_id: str) -> dict[str, Any]:
    return states.filter(pl.col("hub_id") == hub_id).row(0, named=True)


def _state(engine: Engine, hub_id: str) -> dict[str, Any]:
    """``hub_id`` as of the last step evaluated."""
    return _row(engine.hub_states(), hub_id)


def _by_step(steps: list[StepResult]) -> dict[datetime, StepResult]:
    return {step.step: step for step in steps}


# -- event time ------------------------------------------------------------------------------


def test_the_watermark_is_the_slowest_partition_less_the_allowed_lateness() -> None:
    engine = Engine(HUBS)
    assert engine.watermark() is None
    engine.apply(
        events([_on("A", "arrival", 1, 10), _on("B", "arrival", 1, 4), _on("C", "arrival", 1, 7)]),
        now=at(10),
    )
    assert engine.watermark() == at(4 - 5)
    assert engine.partition_watermarks() == {0: at(5), 1: at(-1)}
    engine.apply(events([_on("B", "arrival", 1, 30), _on("B", "arrival", 1, 2)]), now=at(30))
    assert engine.watermark() == at(5)  # partition 0 is now the slowest
    engine.apply(events([_on("A", "arrival", 1, 8)]), now=at(30))  # older: no step back
    assert engine.watermark() == at(5)


def test_steps_run_as_the_watermark_passes_them_and_see_only_events_stamped_before() -> None:
    engine = Engine(HUBS)
    _, steps = _feed(engine, [_on("A", "backlog", 100, 0), _on("B", "backlog", 500, 0)])
    assert steps == []  # the watermark (minute −5) has passed no step yet
    _, steps = _feed(
        engine,
        [
            _on("A", "arrival", 10, 5.5),  # step 6: not in step 5
            _on("A", "arrival", 1, 6),  # stamped on step 6: step 7
            _on("C", "arrival", 0, 11.5),  # the watermarks: minute 6.5
            _on("B", "arrival", 0, 11.5),
        ],
    )
    assert [step.step for step in steps] == [at(m) for m in range(1, 7)]
    backlog = [_row(step.hub_states, "A")["backlog"] for step in steps]
    assert backlog == [100, 100, 100, 100, 100, 110]
    fifth, sixth = steps[4].hub_states, steps[5].hub_states
    assert _row(fifth, "A")["arrivals_total"] == 0
    assert _row(sixth, "A")["last_event_at"] == at(5.5)
    assert fifth["at"].unique().to_list() == [at(5)]  # every row says which step it is
    assert sixth["at"].unique().to_list() == [at(6)]
    # the reads describe the last step; what is stamped after it is pending, not visible
    assert engine.evaluated_through() == at(6)
    assert_frame_equal(engine.hub_states(), sixth)
    assert _state(engine, "C")["level"] == "unknown"
    assert engine.pending.height == 3


def test_late_events_are_counted_and_still_applied() -> None:
    engine = _engine([_on("A", "backlog", 100, 0), _on("A", "arrival", 10, 20)])
    assert engine.watermark() == engine.evaluated_through() == at(15)
    result, steps = _feed(engine, [_on("A", "arrival", 7, 3), _on("A", "arrival", 1, 16)])
    assert (result.applied, result.late, result.duplicate) == (2, 1, 0)
    assert steps == []  # step 15 is the last the watermark passed
    # minute 3's step was passed long ago: it goes to step 16, the first after the partition's
    # watermark; the arrival at 16 to its own step, 17
    _, steps = _feed(engine, [_on("C", "arrival", 0, 26)])  # partition 0's watermark: 21
    assert [step.step for step in steps] == [at(m) for m in range(16, 22)]
    backlog = [_row(step.hub_states, "A")["backlog"] for step in steps]
    assert backlog == [107, 108, 108, 108, 108, 118]
    assert _state(engine, "A")["arrivals_total"] == 18
    series = engine.hub_series("A", minutes=30)
    assert series.filter(pl.col("minute") == at(3))["arrivals"].to_list() == [7]


def test_late_events_inside_the_rate_windows_reach_the_rates() -> None:
    early = [_on(h, "arrival", 10, m) for h in "AB" for m in range(30)]
    late = [_on("A", "arrival", 600, 20, event_id="late")]  # the watermark is at minute 24
    on = [_on(h, "arrival", 0, 31) for h in "AB"]  # the watermarks go on to minute 26
    engine = _engine(early)
    assert engine.evaluated_through() == at(24)
    assert _state(engine, "A")["arrival_rate_per_min"] == 10.0  # windows summed and kept
    result, steps = _feed(engine, late + on)
    assert result.late == 1
    # step 25 (minutes 10–24) is the first to see it, step 26 (11–25) still does
    assert [step.step for step in steps] == [at(25), at(26)]
    rates = [_row(step.hub_states, "A")["arrival_rate_per_min"] for step in steps]
    assert rates == [50.0, 50.0]
    _same(engine, _engine(early + late + on))


def test_events_stamped_too_far_ahead_of_the_wall_clock_are_quarantined_with_a_reason() -> None:
    engine = Engine(HUBS)
    batch = events(
        [
            _on("A", "arrival", 5, 0),
            _on("A", "arrival", 6, 10),  # exactly the 10-min bound: trusted
            _on("A", "arrival", 7, 10.01),
            _on("B", "arrival", 8, 600),
        ]
    )
    result = engine.apply(batch, now=at(0))
    reason = "stamped more than 600 s ahead of the wall clock (clock skew): quarantined"
    expected = pl.DataFrame(
        {"index": [2, 3], "field": ["ts", "ts"], "reason": [reason] * 2, "code": ["future_ts"] * 2},
        schema=REJECT_SCHEMA,
    )
    assert_frame_equal(result.quarantined, expected)
    assert result.applied == 2
    assert engine.partition_watermarks() == {0: at(5)}  # B's future event did not move time
    # not remembered either: once the clock has caught up, the same event is taken
    later = engine.apply(events([_on("A", "arrival", 7, 10.01)]), now=at(5))
    assert (later.applied, later.duplicate) == (1, 0)


def test_duplicates_are_dropped_counted_and_do_not_move_totals() -> None:
    rows = [_on("A", "arrival", 5, 1), _on("A", "arrival", 5, 2)]
    engine = _engine(rows)
    # the copy of an event still pending (its step not run yet) is a duplicate all the same
    result = engine.apply(events([rows[1], _on("A", "arrival", 3, 3)]), now=at(10))
    assert (result.applied, result.duplicate) == (1, 1)
    engine.apply(events([_on("C", "arrival", 0, 9)]), now=at(10))  # the watermark: minute 4
    assert engine.evaluated_through() == at(4)
    assert _state(engine, "A")["arrivals_total"] == 13


# -- states and signals ----------------------------------------------------------------------


def test_hub_states_before_any_event_say_unknown_and_evaluate_says_nothing() -> None:
    engine = Engine(HUBS)
    states = engine.hub_states()
    assert states["level"].cast(pl.String).to_list() == ["unknown"] * 4
    assert_frame_equal(engine.evaluate(), pl.DataFrame(schema=SIGNAL_SCHEMA))


def test_a_hub_never_heard_from_stays_unknown_while_others_report() -> None:
    reports = [_on(h, "backlog", 10, 0) for h in "ABC"]
    engine = _engine(reports, [_on(h, "arrival", 0, 6) for h in "AB"])  # the watermark: 1
    assert engine.evaluated_through() == at(1)
    levels = engine.hub_states().select("hub_id", pl.col("level").cast(pl.String)).rows()
    assert levels == [("A", "none"), ("B", "none"), ("C", "none"), ("D", "unknown")]


def test_hub_silent_counts_in_step_time_and_key_nodes_go_one_level_higher() -> None:
    # A and B fall silent at minute 0; C keeps reporting and carries partition 0's watermark;
    # B's partition has nothing more to send: idle, it does not hold the watermark back
    engine = Engine(HUBS)
    reports = [_on("C", "arrival", 1, m) for m in range(1, 36)]
    engine.ingest(
        events([_on("A", "arrival", 1, 0), _on("B", "arrival", 1, 0), *reports]), now=at(36)
    )
    steps = _by_step(engine.run_due_steps(idle={1}))
    assert max(steps) == at(30)
    for minute, (a_level, b_level) in {
        9: ("none", "none"),
        10: ("yellow", "orange"),
        29: ("yellow", "orange"),
        30: ("orange", "red"),
    }.items():
        states = steps[at(minute)].hub_states.filter(pl.col("hub_id").is_in(["A", "B"]))
        assert states["silent_for_s"].to_list() == [minute * 60.0] * 2
        assert states["silent_level"].cast(pl.String).to_list() == [a_level, b_level], minute


def test_evaluate_raises_hub_overflow_from_the_backlog_and_the_time_to_overflow() -> None:
    rows = [
        _on("A", "backlog", 9_000, 0),  # 90 % of 10 000: orange
        _on("B", "backlog", 2_000, 0),  # 10 % of 20 000, but filling fast: ETA 40 min, orange
        *[_on("B", "arrival", 500, m) for m in range(1, 31)],
        *[_on("B", "departure", 50, m) for m in range(1, 31)],
        _on("C", "backlog", 6_999, 0),  # just under blue
        *[_on(h, "arrival", 0, 30.5) for h in "AC"],  # A and C report until step 31
        *[_on(h, "arrival", 0, 36) for h in "ABC"],  # the watermark: 31 (these are after it)
    ]
    engine = _engine(rows)
    assert engine.evaluated_through() == at(31)
    # B: backlog 2 000 + 30 × 450 = 15 500; ETA (20 000 − 15 500) / 450 = 10 min: red
    signals = engine.evaluate().select("rule", "subject", pl.col("level").cast(pl.String))
    assert signals.rows() == [
        ("hub_overflow", "A", "orange"),
        ("hub_overflow", "B", "red"),
        ("hub_sorting_saturation", "B", "orange"),  # 500/min is 5× its 100/min sorting
    ]


def test_hub_series_gives_per_minute_flows_and_the_backlog_at_the_end_of_each_minute() -> None:
    rows = [
        _on("A", "backlog", 100, 0),
        _on("A", "arrival", 30, 1.5),
        _on("A", "departure", 20, 2.5),
        _on("A", "arrival", 5, 4),
        _on("C", "arrival", 0, 10),  # the watermark: 5
    ]
    engine = Engine(HUBS)
    steps = _by_step(_feed(engine, rows)[1])

    def expected(
        minutes: int, arrivals: list[int], departures: list[int], backlog: list[int]
    ) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "minute": [at(m) for m in range(minutes)],
                "arrivals": arrivals,
                "departures": departures,
                "backlog": backlog,
            },
            schema={
                "minute": pl.Datetime("ms", "UTC"),
                "arrivals": pl.Int64(),
                "departures": pl.Int64(),
                "backlog": pl.Int64(),
            },
        )

    everything = expected(5, [0, 30, 0, 0, 5], [0, 0, 20, 0, 0], [100, 130, 110, 110, 115])
    assert_frame_equal(engine.hub_series("A", minutes=5), everything)
    assert engine.hub_series("D").height == 0
    # as of an earlier step, from what it returned: the minutes before it
    third = steps[at(3)]
    assert_frame_equal(
        hub_series(third.buckets, third.hub_states, "A", minutes=3),
        expected(3, [0, 30, 0], [0, 0, 20], [100, 130, 110]),
    )


# -- checkpoints and partitions --------------------------------------------------------------

HISTORY = [
    _on("A", "backlog", 1_000, 0),
    _on("B", "backlog", 5_000, 0),
    _on("A", "departure", 300, 1, to_hub="B"),
    _on("B", "arrival", 120, 20, from_hub="A"),
    _on("B", "departure", 80, 2, to_hub="C"),
    _on("C", "arrival", 80, 30, from_hub="B"),
    *[_on(h, "arrival", 40, m) for h in "ABC" for m in range(3, 40)],
    *[_on(h, "departure", 25, m + 0.5) for h in "ABC" for m in range(3, 40)],
]
NEXT = [*[_on(h, "arrival", 60, m) for h in "ABC" for m in range(40, 50)], HISTORY[-1]]


def _same(left: Engine, right: Engine) -> None:
    assert left.watermark() == right.watermark()
    assert left.evaluated_through() == right.evaluated_through()
    assert_frame_equal(left.hub_states(), right.hub_states())
    assert_frame_equal(left.evaluate(), right.evaluate())


def _by_hub(frame: pl.DataFrame, *keys: str) -> pl.DataFrame:
    """``frame`` with hub ids as strings, in a fixed order (the store keeps no row order)."""
    return frame.with_columns(pl.col("hub_id").cast(pl.String)).sort(*keys, "hub_id")


def _same_steps(left: list[StepResult], right: list[StepResult]) -> None:
    assert [step.step for step in left] == [step.step for step in right]
    for mine, theirs in zip(left, right, strict=True):
        assert mine.partitions == theirs.partitions, mine.step
        assert_frame_equal(mine.hub_states, theirs.hub_states)
        assert_frame_equal(_by_hub(mine.hubs_by_partition), _by_hub(theirs.hubs_by_partition))
        assert_frame_equal(_by_hub(mine.buckets, "minute"), _by_hub(theirs.buckets, "minute"))


def test_a_checkpoint_restores_exactly_and_keeps_deduplicating() -> None:
    engine = _engine(HISTORY)
    assert engine.pending.height  # the events after step 34 wait for theirs, checkpointed too
    restored = Engine.restore(engine.checkpoint(), HUBS)
    _same(restored, engine)
    assert restored.hub_series("B").equals(engine.hub_series("B"))
    results = [e.apply(events(NEXT), now=at(60)) for e in (engine, restored)]
    assert results[0].duplicate == results[1].duplicate == 1
    _same(restored, engine)


def test_checkpoints_per_partition_add_up_to_the_whole() -> None:
    engine = _engine(HISTORY)
    merged = Engine(HUBS)
    for partition in (0, 1):
        merged.load_checkpoint(engine.checkpoint({partition}))
    _same(merged, engine)
    # the lane A → B crosses partitions: its parcels in transit are counted once
    assert _state(merged, "B")["in_transit_parcels"] == 180
    merged.apply(events(NEXT), now=at(60))
    engine.apply(events(NEXT), now=at(60))
    _same(merged, engine)


def test_a_partition_checkpoint_holds_what_remains_when_the_others_are_dropped() -> None:
    engine = _engine(HISTORY)
    only_zero = Engine.restore(engine.checkpoint({0}), HUBS)
    engine.drop_partitions({1})
    _same(only_zero, engine)
    assert engine.partition_watermarks() == {0: at(39.5 - 5)}
    assert engine.dedup.frame()["partition"].unique().to_list() == [0]


def test_a_checkpoint_between_steps_restores_to_an_engine_that_makes_the_same_later_steps() -> None:
    engine = Engine(HUBS)
    _feed(engine, HISTORY)
    engine.ingest(events(NEXT[:12]), now=at(60))  # ingested, their steps not run
    pending = engine.pending
    restored = Engine.restore(engine.checkpoint(), HUBS)
    assert_frame_equal(restored.pending, pending)
    assert restored.evaluated_through() == engine.evaluated_through() == at(34)
    later = [_feed(e, NEXT[12:])[1] for e in (engine, restored)]
    assert [step.step for step in later[0]] == [at(m) for m in range(35, 45)]
    _same_steps(later[1], later[0])
    _same(restored, engine)


def test_dropped_partitions_are_forgotten_and_can_be_replayed() -> None:
    engine = _engine(HISTORY)
    engine.drop_partitions({1})
    assert _state(engine, "B")["level"] == "unknown"
    # the next owner replays partition 1 from Kafka: nothing is taken as a duplicate, and its
    # steps are evaluated again, for it alone (the others were decided already)
    replay = [row for row in HISTORY if row["partition"] == 1]
    result, steps = _feed(engine, replay)
    assert (result.applied, result.duplicate) == (len(replay), 0)
    assert [step.step for step in steps] == [at(m) for m in range(1, 35)]
    assert {step.partitions for step in steps} == {frozenset({1})}
    _same(engine, _engine(HISTORY))


def test_a_partition_first_heard_after_the_others_steps_gets_its_own_steps() -> None:
    engine = Engine(HUBS)
    _, first = _feed(engine, [_on("A", "arrival", 5, m) for m in range(12)])
    assert [step.step for step in first] == [at(m) for m in range(1, 7)]
    assert {step.partitions for step in first} == {frozenset({0})}
    # partition 1's first records come in the next fetch: its steps run from its first event
    result, steps = _feed(engine, [_on("B", "arrival", 7, m) for m in range(12)])
    assert result.late == 0
    assert [step.step for step in steps] == [at(m) for m in range(1, 7)]
    assert {step.partitions for step in steps} == {frozenset({1})}
    arrivals = [_row(step.hub_states, "B")["arrivals_total"] for step in steps]
    assert arrivals == [7 * m for m in range(1, 7)]


# -- the same events in any batching ---------------------------------------------------------

STREAM_HUBS = ("A", "B", "C")


def _stream(rng: random.Random, minutes: int) -> list[dict[str, Any]]:
    """Per-minute counts at each hub, lanes between them, backlog every 12 min, some re-sends."""
    rows: list[dict[str, Any]] = []
    for minute in range(minutes):
        for number, hub_id in enumerate(STREAM_HUBS):
            second = rng.randrange(0, 60) / 60
            other = STREAM_HUBS[(number + 1 + rng.randrange(2)) % 3]
            rows.append(_on(hub_id, "arrival", rng.randrange(0, 400), minute + second))
            rows.append(_on(hub_id, "arrival", rng.randrange(0, 50), minute + 0.1, from_hub=other))
            rows.append(_on(hub_id, "departure", rng.randrange(0, 400), minute + 0.2, to_hub=other))
            if minute % 12 == 4 * number:  # sparse, so that flows after them count
                rows.append(_on(hub_id, "backlog", rng.randrange(0, 12_000), minute + 0.3))
    resent = [dict(row) for row in rng.sample(rows, len(rows) // 20)]
    return rows + resent


def _in_batches(
    rows: list[dict[str, Any]], sizes: list[int]
) -> tuple[Engine, int, list[StepResult]]:
    """Feed ``rows`` in batches of ``sizes`` (in turn) to a new engine: it, late events, steps."""
    engine = Engine(HUBS)
    late, steps = 0, []
    start, turn = 0, 0
    while start < len(rows):
        size = sizes[turn % len(sizes)]
        result, done = _feed(engine, rows[start : start + size])
        late, steps = late + result.late, steps + done
        start, turn = start + size, turn + 1
    return engine, late, steps


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    delay_s=st.sampled_from([60, 299]),
    batch_sizes=st.lists(st.integers(2, 30), min_size=1, max_size=6),
)
def test_the_same_events_in_any_batching_and_order_within_the_lateness_give_the_same_steps(
    seed: int, delay_s: int, batch_sizes: list[int]
) -> None:
    rng = random.Random(seed)
    stream = _stream(rng, 35)
    reference = Engine(HUBS)
    _, expected = _feed(reference, sorted(stream, key=lambda row: row["ts"]))

    # each event is sent up to ``delay_s`` after its event time, always within the 5-min lateness;
    # many right at the bound, where reordering meets the steps
    def send_time(row: dict[str, Any]) -> datetime:
        delay = rng.choice((0.0, rng.uniform(0, delay_s), float(delay_s)))
        return row["ts"] + timedelta(seconds=delay)  # type: ignore[no-any-return]

    engine, late, steps = _in_batches(sorted(stream, key=send_time), batch_sizes)
    assert late == 0
    assert len(expected) >= 29
    _same_steps(steps, expected)
    _same(engine, reference)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32 - 1),
    batch_sizes=st.lists(st.integers(1, 40), min_size=1, max_size=6),
)
def test_the_same_records_in_any_batching_give_the_same_steps_late_events_included(
    seed: int, batch_sizes: list[int]
) -> None:
    rng = random.Random(seed)
    stream = sorted(_stream(rng, 20), key=lambda row: row["ts"])
    # some records come far behind their time (a courier's buffered scans): late
    third = len(stream) // 3
    for number in range(12):
        row = dict(rng.choice(stream[:third]), event_id=f"late-{number}")
        stream.insert(rng.randrange(2 * third, len(stream)), row)
    reference, late, expected = _in_batches(stream, [len(stream)])
    assert late == 12
    engine, late_in_batches, steps = _in_batches(stream, batch_sizes)
    assert late_in_batches == late
    _same_steps(steps, expected)
    _same(engine, reference)


# -- what a step returns ---------------------------------------------------------------------


def test_a_step_result_is_a_snapshot_that_later_steps_do_not_change() -> None:
    """The consumer hands each step's frames on (alerts, the API, hub-status) and goes on."""
    engine = Engine(HUBS)
    steps: list[StepResult] = []
    copies: list[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]] = []
    for minute in range(60):
        batch = [_on("A", "arrival", 10, minute + i / 100) for i in range(20)]
        batch.append(_on("A", "backlog", 50 * minute, minute + 0.5))  # the state moves on
        _, done = _feed(engine, batch)
        steps += done
        copies += [
            (s.hub_states.clone(), s.buckets.clone(), s.hubs_by_partition.clone()) for s in done
        ]
    assert [step.step for step in steps] == [at(m) for m in range(1, 55)]
    for step, (hub_states, buckets, hubs) in zip(steps, copies, strict=True):
        assert_frame_equal(step.hub_states, hub_states)
        assert_frame_equal(step.buckets, buckets)
        assert_frame_equal(step.hubs_by_partition, hubs)
        # every batch before the step is in it, none after
        minutes = (step.step - at(0)) // timedelta(minutes=1)
        assert _row(step.hub_states, "A")["arrivals_total"] == 200 * minutes
        series = hub_series(step.buckets, step.hub_states, "A", minutes=180)
        assert series["arrivals"].sum() == 200 * minutes
    with pytest.raises(dataclasses.FrozenInstanceError):
        steps[0].step = at(0)  # type: ignore[misc]


# -- idleness --------------------------------------------------------------------------------


def test_an_idle_partition_does_not_hold_the_watermark_back() -> None:
    engine = Engine(HUBS)
    _, steps = _feed(
        engine, [_on("B", "arrival", 1, 0), *[_on("A", "arrival", 1, m) for m in range(21)]]
    )
    assert steps == []  # partition 1 (B) holds the watermark at minute −5
    assert engine.run_due_steps(idle={0}) == []  # the busy one idle changes nothing
    steps = engine.run_due_steps(idle={1})
    assert [step.step for step in steps] == [at(m) for m in range(1, 16)]
    assert engine.watermark() == at(15)
    assert _row(steps[-1].hub_states, "B")["silent_level"] == "orange"  # a key node, 15 min
    # B's partition comes back with a record stamped before steps already evaluated for it:
    # the first step not evaluated yet, counted late
    result, steps = _feed(engine, [_on("B", "arrival", 4, 2), _on("A", "arrival", 1, 21)])
    assert result.late == 1
    assert steps == []
    assert engine.watermark() == at(15)  # B's partition holds it again, but it never goes back
    assert engine.pending.filter(pl.col("hub_id") == "B")["step_ms"].to_list() == [
        int(at(16).timestamp() * 1000)
    ]
    _, steps = _feed(engine, [_on("B", "arrival", 1, 22)])
    assert [step.step for step in steps] == [at(16)]
    assert _row(steps[0].hub_states, "B")["arrivals_total"] == 5


def test_a_quiet_partition_not_known_drained_lets_event_time_pass_at_the_walls_pace() -> None:
    # After a pause, a burst reaches us partition by partition: A's partition sends twenty
    # minutes while B's, quiet for 3 s of wall time, may still have records on their way.
    engine = Engine(HUBS)
    _feed(engine, [_on(h, "arrival", 1, m) for m in range(11) for h in "AB"])
    assert engine.evaluated_through() == at(5)
    _feed(engine, [_on("A", "arrival", 1, m) for m in range(11, 31)])
    assert engine.run_due_steps(quiet_ms={1: 3_000}) == []  # B holds at 10:00 + 3 s
    steps = engine.run_due_steps(quiet_ms={1: 2 * 60_000})  # quiet 2 min: event time goes on
    assert [step.step for step in steps] == [at(6), at(7)]
    assert _row(steps[-1].hub_states, "B")["silent_level"] == "none"
    steps = engine.run_due_steps(idle={1})  # drained for sure: it holds nothing back
    assert steps[-1].step == at(25)


def test_a_stopped_feed_moves_event_time_on_and_a_stopped_hub_turns_silent() -> None:
    engine = Engine(HUBS)
    _feed(engine, [_on(h, "arrival", 1, m) for m in range(11) for h in "AB"])
    assert engine.evaluated_through() == at(5)
    # nothing more from either partition: event time goes on from where the watermark stood,
    # at the pace of the wall clock
    stopped = {0, 1}
    steps = engine.run_due_steps(stopped, feed_stopped_for_ms=14 * 60_000 + 59_999)
    assert [step.step for step in steps] == [at(m) for m in range(6, 20)]
    assert _row(steps[-1].hub_states, "A")["silent_level"] == "none"  # 9 min since minute 10
    steps = engine.run_due_steps(stopped, feed_stopped_for_ms=15 * 60_000)
    assert [step.step for step in steps] == [at(20)]
    silent = steps[0].hub_states.filter(pl.col("hub_id").is_in(["A", "B"]))
    assert silent["silent_level"].cast(pl.String).to_list() == ["yellow", "orange"]
    assert engine.watermark() == at(20)
    steps = engine.run_due_steps(stopped, feed_stopped_for_ms=35 * 60_000)
    assert steps[-1].step == at(40)
    silent = steps[-1].hub_states.filter(pl.col("hub_id").is_in(["A", "B"]))
    assert silent["silent_level"].cast(pl.String).to_list() == ["orange", "red"]
    assert engine.run_due_steps(stopped, feed_stopped_for_ms=35 * 60_000) == []  # each once


@pytest.mark.parametrize(("horizon_min", "expected"), [(360, 300), (20, 0)])
def test_parcels_count_in_transit_for_the_configured_horizon_only(
    horizon_min: int, expected: int
) -> None:
    config = RiskConfig(in_transit_horizon_s=horizon_min * 60)
    engine = Engine(HUBS, config)
    engine.apply(events([_on("A", "departure", 300, 1, to_hub="B")]), now=at(60 * 24))
    # both partitions move on to minute 40: the departure is 39 min old at the last step
    later = [_on("A", "arrival", 1, 45), _on("B", "arrival", 1, 45)]
    engine.apply(events(later), now=at(60 * 24))
    assert _state(engine, "B")["in_transit_parcels"] == expected
