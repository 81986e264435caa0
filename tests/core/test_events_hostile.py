"""Whatever the bytes, ``decode_batch`` raises nothing and every record comes out exactly once.

Property tests over arbitrary bytes and arbitrary JSON (nesting, numbers, strings, encodings).
Inputs of the crash class (nesting deep enough to overflow the JSON reader's stack) run in a child
process, so that a regression kills the child and fails the test instead of killing pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from core.events import EVENT_SCHEMA, DecodedBatch, decode_batch

GOOD = json.dumps(
    {
        "event_id": "e1",
        "carrier": "ZTO",
        "hub_id": "ZTO-HZ01",
        "ts": 1_794_326_400_000,
        "kind": "arrival",
        "parcels": 5,
    }
).encode()
POISON = b'{"event_id": "p", "parcels": NaN}'
BOUNDED = settings(max_examples=200, deadline=None, derandomize=True)


def assert_each_record_once(values: list[bytes], decoded: DecodedBatch) -> None:
    """Every position is an event or a reject, once; a reject names a field and a reason."""
    assert decoded.events.schema == pl.Schema({"index": pl.UInt32(), **EVENT_SCHEMA})
    positions = decoded.events["index"].to_list() + decoded.rejects["index"].to_list()
    assert sorted(positions) == list(range(len(values)))
    assert all(decoded.rejects["field"].to_list())
    assert all(reason.strip() for reason in decoded.rejects["reason"].to_list())


# --- Arbitrary JSON, as text (so that it can hold what json.dumps will not write) -------------


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


NUMBERS = st.one_of(
    st.integers().map(str),
    st.integers(min_value=-(2**140), max_value=2**140).map(str),
    st.integers(min_value=1, max_value=5_000).map(lambda digits: "9" * digits),
    st.floats().map(_float_text),
    st.tuples(st.integers(-9, 9), st.integers(-(10**13), 10**13)).map(
        lambda m_e: f"{m_e[0]}e{m_e[1]}"
    ),
)
STRINGS = st.one_of(
    st.text(max_size=20).map(json.dumps),
    st.text(max_size=20).map(lambda text: json.dumps(text, ensure_ascii=False)),
    st.sampled_from(['"\\ud800"', '"\\udfff\\ud800"', '"a\\u0000b"', '"\t"', '"\\x"', '"\\']),
)
SCALARS = st.one_of(NUMBERS, STRINGS, st.sampled_from(["true", "false", "null", "", "tru", "-"]))


def _array(items: list[str]) -> str:
    return "[" + ",".join(items) + "]"


def _object(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{key}:{value}" for key, value in pairs) + "}"


JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(_array),
        st.lists(st.tuples(STRINGS, children), max_size=4).map(_object),
    ),
    max_leaves=10,
)
# Nesting to a few hundred levels is safe in this process (the reader overflows in the
# thousands); deeper runs in the child process below.
NESTED = st.tuples(st.integers(0, 300), JSON_VALUES, st.booleans()).map(
    lambda spec: "[" * spec[0] + spec[1] + ("]" * spec[0] if spec[2] else "")
)
FIELD_VALUES = st.one_of(
    st.just('"ZTO"'), st.just("5"), st.just('"arrival"'), st.just("1794326400000"), NESTED
)
FIELDS = st.sampled_from(["event_id", "carrier", "hub_id", "ts", "kind", "parcels", "to_hub", "x"])


@st.composite
def json_records(draw: st.DrawFn) -> bytes:
    """An event-like object with arbitrary values, or any JSON value; in some encoding."""
    if draw(st.booleans()):
        fields = draw(st.dictionaries(FIELDS, FIELD_VALUES, max_size=8))
        text = _object([(json.dumps(key), value) for key, value in fields.items()])
    else:
        text = draw(NESTED)
    if draw(st.booleans()):
        text = draw(st.sampled_from(["", " ", "\n", "\r\n", "\ufeff"])) + text
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-32", "latin-1"]))
    errors = "replace" if encoding == "latin-1" else "surrogatepass"
    data = text.encode(encoding, errors=errors)
    cut = draw(st.one_of(st.none(), st.integers(0, len(data))))
    return data if cut is None else data[:cut]


@BOUNDED
@given(values=st.lists(st.one_of(st.binary(max_size=200), st.just(GOOD)), max_size=12))
def test_arbitrary_bytes_never_raise_and_each_record_comes_out_once(values: list[bytes]) -> None:
    assert_each_record_once(values, decode_batch(values))


@BOUNDED
@given(values=st.lists(st.one_of(json_records(), st.just(GOOD)), max_size=6))
def test_arbitrary_json_never_raises_and_each_record_comes_out_once(values: list[bytes]) -> None:
    assert_each_record_once(values, decode_batch(values))


def _fate(decoded: DecodedBatch, index: int) -> tuple[list[Any], list[Any]]:
    event = decoded.events.filter(pl.col("index") == index).drop("index").rows()
    reject = decoded.rejects.filter(pl.col("index") == index).drop("index").rows()
    return event, reject


@BOUNDED
@given(record=json_records())
def test_a_record_decodes_the_same_alone_and_beside_poison(record: bytes) -> None:
    """The batch read and the record-by-record path agree: neighbours never change a fate."""
    alone = decode_batch([record])
    beside = decode_batch([GOOD, POISON, record])
    assert_each_record_once([GOOD, POISON, record], beside)
    assert _fate(beside, 2) == _fate(alone, 0)


# --- The crash class, in a child process -----------------------------------------------------

CHILD = textwrap.dedent(
    """
    import json
    from hypothesis import given, settings, strategies as st
    from core.events import decode_batch

    GOOD = json.dumps({"event_id": "e1", "carrier": "ZTO", "hub_id": "H", "ts": 1,
                       "kind": "arrival", "parcels": 5}).encode()
    CLOSERS = {b"[": b"]", b'{"a":': b"}", b'{"a":[': b"]}", b'[{"b":': b"}]"}

    def check(values):
        decoded = decode_batch(values)
        positions = decoded.events["index"].to_list() + decoded.rejects["index"].to_list()
        assert sorted(positions) == list(range(len(values))), positions
        assert decoded.events["event_id"].to_list() == ["e1", "e1"]

    # The records of the bug report: 5,000 levels in an ignored field and in a read one.
    for field in ("x", "event_id", "parcels"):
        deep = b"[" * 5_000 + b"]" * 5_000
        check([GOOD, GOOD.replace(b"{", b'{"' + field.encode() + b'": ' + deep + b", ", 1), GOOD])

    @settings(max_examples=40, deadline=None, derandomize=True, database=None)
    @given(depth=st.integers(33, 12_000), opener=st.sampled_from(sorted(CLOSERS)),
           closed=st.booleans(), in_event=st.booleans())
    def deep(depth, opener, closed, in_event):
        value = opener * depth + b"1" + (CLOSERS[opener] * depth if closed else b"")
        record = GOOD.replace(b"{", b'{"x": ' + value + b", ", 1) if in_event else value
        check([GOOD, record, GOOD])

    deep()
    print("ok")
    """
)


def test_nesting_that_crashes_the_json_reader_is_rejected_in_a_child_process() -> None:
    child = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=240, check=False
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.strip() == "ok"
