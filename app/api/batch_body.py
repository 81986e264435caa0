"""The items of a ``POST /v1/events`` body, read within limits before any per-item object exists.

    nesting_exceeds(data, limit)       a linear scan in C: do arrays/objects nest deeper than limit?
    read_ndjson(body, ...)             one item per non-blank line; blank lines cost nothing
    read_json(body, ...)               the items of ``{"events": [...]}``, never more than the limit

A body that breaks a limit as a whole raises ``BodyError`` (HTTP status and a reason the sender
can act on); one bad NDJSON line is a per-item entry of ``RawBatch.broken`` instead. Pure and
synchronous: the route runs it in a worker thread when the body is large.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import islice
from typing import Any

from core.errors import PeakwatchError

MAX_JSON_DEPTH = 32
"""Arrays and objects inside each other, at most. A batch needs 3 (``{"events": [{...}]}``), an
NDJSON line 1; Python's parser fails (a 500) near 1,000, so the limit is checked before it runs."""

# A JSON string, escapes included; an unterminated one runs to the end. It always matches from a
# quote and never backtracks (possessive), so cutting strings out is linear in the body.
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SQUARE = bytes.maketrans(b"{}", b"[]")
_LINE = re.compile(rb"\S[^\n]*")  # a non-blank line, from its first non-blank byte
_WS = re.compile(r"[ \t\n\r]*")
_OPENING = re.compile(r'[ \t\n\r]*\{[ \t\n\r]*"events"[ \t\n\r]*:[ \t\n\r]*\[[ \t\n\r]*')
_CLOSING = re.compile(r"[ \t\n\r]*\}[ \t\n\r]*\Z")
_DECODER = json.JSONDecoder()
_SHAPE = 'body must be a JSON object {"events": [...]} (and no other key)'


class BodyError(PeakwatchError):
    """The body as a whole breaks a limit or is not a batch; ``status`` is the HTTP answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class RawBatch:
    """Parsed items as (index, JSON value), and (index, reason) for items that are not JSON.

    ``index`` is the item's position: in a JSON body its place in ``events``, in NDJSON its line
    number from 0 (blank lines are skipped but keep their numbers, so the sender can find a line).
    """

    items: list[tuple[int, Any]]
    broken: list[tuple[int, str]]

    @property
    def size(self) -> int:
        """Items in the batch, JSON or not."""
        return len(self.items) + len(self.broken)


def nesting_exceeds(data: bytes, limit: int) -> bool:
    """Do arrays and objects in ``data`` (UTF-8 JSON) nest more than ``limit`` levels deep?

    Strings are cut out (their brackets are text), every byte but the brackets dropped, then each
    pass removes the innermost ``[]`` pairs: one level a pass, at most ``limit`` passes. Unclosed
    (or stray) brackets count as levels, so a broken body errs towards "too deep", never the
    other way.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False  # not even that many brackets: the common case costs two counts
    skeleton = _STRING.sub(b"", data).translate(_SQUARE, _NOT_BRACKETS)
    removed = 0
    while removed + skeleton.count(b"[") > limit:  # an upper bound of the depth
        if removed == limit or b"[" * (limit + 1 - removed) in skeleton:
            return True  # (a run of opening brackets is the usual deep body: found in one scan)
        inner = skeleton.replace(b"[]", b"")
        if len(inner) == len(skeleton):
            return True  # only unclosed or stray brackets are left, and too many of them
        skeleton, removed = inner, removed + 1
    return False


def read_ndjson(body: bytes, *, max_events: int, max_depth: int = MAX_JSON_DEPTH) -> RawBatch:
    """One item per non-blank line (``\\n`` or ``\\r\\n``); ``BodyError`` 413 over ``max_events``.

    Lines are counted before any is parsed, and the count stops at the limit, so a body of a
    million lines (or of newlines only) costs one scan and nothing else.
    """
    counted = sum(1 for _ in islice(_LINE.finditer(body), max_events + 1))
    if counted > max_events:
        raise BodyError(
            413,
            f"more than {max_events} events (non-blank lines); "
            f"the limit is {max_events} a batch (max_batch_events): split the batch",
        )
    items: list[tuple[int, Any]] = []
    broken: list[tuple[int, str]] = []
    if counted == 0:
        return RawBatch(items=items, broken=broken)
    line_number, line_start = 0, 0
    for match in _LINE.finditer(body):
        line_number += body.count(b"\n", line_start, match.start())
        line_start = match.start()
        line = match.group()
        if nesting_exceeds(line, max_depth):
            broken.append(
                (line_number, f"must nest objects and arrays at most {max_depth} levels deep")
            )
            continue
        try:
            items.append((line_number, json.loads(line)))
        except ValueError as error:  # not JSON, not UTF-8, or an integer of 4,300+ digits
            broken.append((line_number, f"not valid JSON: {error}"))
    return RawBatch(items=items, broken=broken)


def read_json(body: bytes, *, max_events: int, max_depth: int = MAX_JSON_DEPTH) -> RawBatch:
    """The items of ``{"events": [...]}`` (UTF-8, a BOM allowed); ``BodyError`` 400 or 413.

    The depth is checked before parsing; then the array is read one item at a time, so a body
    of more than ``max_events`` items stops at the first one over the limit.
    """
    if nesting_exceeds(body, max_depth):
        raise BodyError(
            400,
            f"body must nest objects and arrays at most {max_depth} levels deep "
            '(a batch needs 3: {"events": [{...}]})',
        )
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BodyError(400, f"body is not UTF-8: {error}") from error
    opening = _OPENING.match(text)
    if opening is None:
        raise BodyError(400, _SHAPE)
    values, end = _array_items(text, opening.end(), max_events)
    if _CLOSING.match(text, end) is None:
        raise BodyError(400, _SHAPE)
    return RawBatch(items=list(enumerate(values)), broken=[])


def _array_items(text: str, at: int, max_events: int) -> tuple[list[Any], int]:
    """The values of the array whose first item starts at ``at``, and where the array ends."""
    values: list[Any] = []
    if text.startswith("]", at):
        return values, at + 1
    while True:
        if len(values) == max_events:
            raise BodyError(
                413,
                f"more than {max_events} events; "
                f"the limit is {max_events} a batch (max_batch_events): split the batch",
            )
        try:
            value, at = _DECODER.raw_decode(text, at)
        except ValueError as error:  # not JSON, or an integer of 4,300+ digits
            raise BodyError(400, f"body is not valid JSON: {error}") from error
        values.append(value)
        at = _skip_ws(text, at)
        if text.startswith(",", at):
            at = _skip_ws(text, at + 1)
        elif text.startswith("]", at):
            return values, at + 1
        else:
            raise BodyError(400, f"body is not valid JSON: expected ',' or ']' at character {at}")


def _skip_ws(text: str, at: int) -> int:
    match = _WS.match(text, at)
    return at if match is None else match.end()
