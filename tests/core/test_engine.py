"""Engine: event time (watermark, late events, future skew), de-duplication, hub states and
signals, series, checkpoints and partitions; the same events in any batching give the same frames.
"""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from core.engine import Engine
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


def _state(engine: Engine, hub_id: str) -> dict[str, Any]:
    return engine.hub_states().filter(pl.col("hub_id") == hub_id).row(0, named=True)


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


def test_late_events_are_counted_and_still_applied() -> None:
    engine = _engine([_on("A", "backlog", 100, 0), _on("A", "arrival", 10, 20)])
    assert engine.watermark() == at(15)
    result = engine.apply(
        events([_on("A", "arrival", 7, 3), _on("A", "arrival", 1, 16)]), now=at(20)
    )
    assert (result.applied, result.late, result.duplicate) == (2, 1, 0)
    assert _state(engine, "A")["backlog"] == 118
    assert _state(engine, "A")["arrivals_total"] == 18
    series = engine.hub_series("A", minutes=30)
    assert series.filter(pl.col("minute") == at(3))["arrivals"].to_list() == [7]


def test_late_events_inside_the_rate_windows_reach_the_rates() -> None:
    early = [_on(h, "arrival", 10, m) for h in "AB" for m in range(30)]
    late = [_on("A", "arrival", 600, 20, event_id="late")]  # the watermark is at minute 24
    engine = _engine(early)
    assert _state(engine, "A")["arrival_rate_per_min"] == 10.0  # windows summed and kept
    result = engine.apply(events(late), now=at(30))
    assert result.late == 1
    assert _state(engine, "A")["arrival_rate_per_min"] == 50.0
    _same(engine, _engine(early + late))


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
        {"index": [2, 3], "field": ["ts", "ts"], "reason": [reason, reason]},
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
    result = engine.apply(events([rows[1], _on("A", "arrival", 3, 3)]), now=at(10))
    assert (result.applied, result.duplicate) == (1, 1)
    assert _state(engine, "A")["arrivals_total"] == 13


# -- states and signals ----------------------------------------------------------------------


def test_hub_states_before_any_event_say_unknown_and_evaluate_says_nothing() -> None:
    engine = Engine(HUBS)
    states = engine.hub_states()
    assert states["level"].cast(pl.String).to_list() == ["unknown"] * 4
    assert_frame_equal(engine.evaluate(), pl.DataFrame(schema=SIGNAL_SCHEMA))


def test_a_hub_never_heard_from_stays_unknown_while_others_report() -> None:
    engine = _engine([_on(h, "backlog", 10, 0) for h in "ABC"])
    levels = engine.hub_states().select("hub_id", pl.col("level").cast(pl.String)).rows()
    assert levels == [("A", "none"), ("B", "none"), ("C", "none"), ("D", "unknown")]


def test_hub_silent_counts_in_watermark_time_and_key_nodes_go_one_level_higher() -> None:
    # A and B fall silent at minute 0; C keeps reporting and carries the watermark forward
    base = [_on("A", "arrival", 1, 0), _on("B", "arrival", 1, 0)]
    for minute, (a_level, b_level) in {
        9.99: ("none", "none"),
        10: ("yellow", "orange"),
        29.99: ("yellow", "orange"),
        30: ("orange", "red"),
    }.items():
        ticks = [_on("C", "arrival", 1, minute + 5), _on("B", "arrival", 1, minute + 5)]
        engine = _engine(base, ticks[:1])
        engine.partition_max_ms[1] = engine.partition_max_ms[0]  # B's partition is not idle
        states = engine.hub_states().filter(pl.col("hub_id").is_in(["A", "B"]))
        assert states["silent_level"].cast(pl.String).to_list() == [a_level, b_level], minute


def test_evaluate_raises_hub_overflow_from_the_backlog_and_the_time_to_overflow() -> None:
    rows = [
        _on("A", "backlog", 9_000, 0),  # 90 % of 10 000: orange
        _on("B", "backlog", 2_000, 0),  # 10 % of 20 000, but filling fast: ETA 40 min, orange
        *[_on("B", "arrival", 500, m) for m in range(1, 31)],
        *[_on("B", "departure", 50, m) for m in range(1, 31)],
        _on("C", "backlog", 6_999, 0),  # just under blue
        *[_on(h, "arrival", 0, 36) for h in "ABC"],
    ]
    engine = _engine(rows)
    # B: backlog 2 000 + 30 × 450 = 15 500; ETA (20 000 − 15 500) / 450 = 10 min: red
    signals = engine.evaluate().select("rule", "subject", pl.col("level").cast(pl.String))
    assert signals.rows() == [
        ("hub_overflow", "A", "orange"),
        ("hub_overflow", "B", "red"),
        ("hub_sorting_saturation", "B", "orange"),  # 500/min is 5× its 100/min sorting
    ]


def test_hub_series_gives_per_minute_flows_and_the_backlog_at_the_end_of_each_minute() -> None:
    engine = _engine(
        [
            _on("A", "backlog", 100, 0),
            _on("A", "arrival", 30, 1.5),
            _on("A", "departure", 20, 2.5),
            _on("A", "arrival", 5, 4),
        ]
    )
    expected = pl.DataFrame(
        {
            "minute": [at(m) for m in range(5)],
            "arrivals": [0, 30, 0, 0, 5],
            "departures": [0, 0, 20, 0, 0],
            "backlog": [100, 130, 110, 110, 115],
        },
        schema={
            "minute": pl.Datetime("ms", "UTC"),
            "arrivals": pl.Int64(),
            "departures": pl.Int64(),
            "backlog": pl.Int64(),
        },
    )
    assert_frame_equal(engine.hub_series("A", minutes=5), expected)
    assert engine.hub_series("D").height == 0


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
    assert_frame_equal(left.hub_states(), right.hub_states())
    assert_frame_equal(left.evaluate(), right.evaluate())


def test_a_checkpoint_restores_exactly_and_keeps_deduplicating() -> None:
    engine = _engine(HISTORY)
    engine.hub_states()  # settles part of the flows first
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


def test_dropped_partitions_are_forgotten_and_can_be_replayed() -> None:
    engine = _engine(HISTORY)
    engine.drop_partitions({1})
    assert _state(engine, "B")["level"] == "unknown"
    # the next owner replays partition 1 from Kafka: nothing is taken as a duplicate
    replay = [row for row in HISTORY if row["partition"] == 1]
    result = engine.apply(events(replay), now=at(60))
    assert (result.applied, result.duplicate) == (len(replay), 0)
    _same(engine, _engine(HISTORY))


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
def test_the_same_events_in_any_batching_and_order_within_the_lateness_give_the_same_frames(
    seed: int, delay_s: int, batch_sizes: list[int]
) -> None:
    rng = random.Random(seed)
    stream = _stream(rng, 35)
    reference = Engine(HUBS)
    reference.apply(events(sorted(stream, key=lambda row: row["ts"])), now=at(60))

    # each event is sent up to ``delay_s`` after its event time, always within the 5-min lateness;
    # many right at the bound, where reordering meets settling
    def send_time(row: dict[str, Any]) -> datetime:
        delay = rng.choice((0.0, rng.uniform(0, delay_s), float(delay_s)))
        return row["ts"] + timedelta(seconds=delay)  # type: ignore[no-any-return]

    sent = sorted(stream, key=send_time)
    engine = Engine(HUBS)
    late = 0
    start, turn = 0, 0
    while start < len(sent):
        size = batch_sizes[turn % len(batch_sizes)]
        late += engine.apply(events(sent[start : start + size]), now=at(60)).late
        engine.hub_states()  # every evaluation tick settles flows behind the watermark
        start, turn = start + size, turn + 1
    assert late == 0
    _same(engine, reference)


# -- threads ---------------------------------------------------------------------------------


def test_reads_from_another_thread_never_lose_a_batch_being_applied() -> None:
    """The consumer applies in a worker thread while the API reads hub states and series."""
    engine = Engine(HUBS)
    batches = [
        events([_on("A", "arrival", 10, minute + i / 100) for i in range(20)])
        for minute in range(120)
    ]
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            engine.hub_states()
            engine.hub_series("A", minutes=60)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for batch in batches:
            engine.apply(batch, now=at(60 * 24))
    finally:
        done.set()
        for reader in readers:
            reader.join()
    state = _state(engine, "A")
    assert state["arrivals_total"] == 120 * 20 * 10
    assert engine.hub_series("A", minutes=180)["arrivals"].sum() == 120 * 20 * 10
