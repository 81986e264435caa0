"""The dead-letter queue: records that break schema v1 go to ``hub-events-dlq`` unchanged.

The value is the original bytes (the original key is not carried yet); the headers say where it came
from and why it was refused, so an operator can fix the sender and replay:

    peakwatch-reason-code   a core.vocabulary.RejectReason (malformed, too_large, schema, …)
    peakwatch-field         the field at fault, or "(record)"
    peakwatch-reason        the rule broken, in words
    peakwatch-source        hub-events/<partition>/<offset>
    peakwatch-truncated     only on a value cut to fit the DLQ: "kept <n> of <size> bytes"

A dead letter is never dropped: a value larger than the DLQ takes is cut (with the header above),
and a letter the broker refuses as too large (a DLQ topic created with a smaller
``max.message.bytes``) is sent again cut shorter, and logged as an error with the fix.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError

from consumers.batch import DeadLetter
from consumers.topics import MAX_DEAD_LETTER_BYTES

log = logging.getLogger(__name__)

MAX_HEADER_VALUE_BYTES = 1024
"""Longest value of one header; a longer reason is cut with "…"."""
MAX_VALUE_BYTES = MAX_DEAD_LETTER_BYTES - 64 * 1024
"""Longest value sent as is: the DLQ's record limit less room for headers and batch framing."""
REFUSED_VALUE_BYTES = 512 * 1024
"""What a letter the broker refused is cut to: it fits a topic at Kafka's default 1 MiB limit."""
_VALUE_LIMITS = (MAX_VALUE_BYTES, REFUSED_VALUE_BYTES, 0)  # 0: headers only, the last resort
_TOO_LARGE = (MessageSizeTooLargeError, RecordListTooLargeError)


def dlq_headers(letter: DeadLetter, source_topic: str) -> list[tuple[str, bytes]]:
    """The headers of one DLQ record."""
    return [
        ("peakwatch-reason-code", str(letter.reason_code).encode()),
        ("peakwatch-field", _capped(letter.field)),
        ("peakwatch-reason", _capped(letter.reason)),
        ("peakwatch-source", f"{source_topic}/{letter.partition}/{letter.offset}".encode()),
    ]


def dlq_record(
    letter: DeadLetter, source_topic: str, *, max_value_bytes: int = MAX_VALUE_BYTES
) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The value and headers of one DLQ record; a value over ``max_value_bytes`` is cut."""
    headers = dlq_headers(letter, source_topic)
    value = letter.value
    if len(value) > max_value_bytes:
        kept = f"kept {max_value_bytes} of {len(value)} bytes"
        headers.append(("peakwatch-truncated", kept.encode()))
        value = value[:max_value_bytes]
    return value, headers


async def send_dead_letters(
    producer: Any, letters: list[DeadLetter], *, dlq_topic: str, source_topic: str
) -> None:
    """Produce every letter (acks=all) to the partition it came from; return once all are stored.

    Raises what the producer raises, except "too large": such a letter is sent again cut shorter.
    """
    pending = letters
    for limit in _VALUE_LIMITS:
        if not pending:
            return
        if limit != MAX_VALUE_BYTES:
            log.error(
                "%d dead letters refused by Kafka as too large: sending them again cut to %d "
                "bytes; set max.message.bytes=%d on topic %s",
                len(pending),
                limit,
                MAX_DEAD_LETTER_BYTES,
                dlq_topic,
            )
        pending = await _send(producer, pending, dlq_topic, source_topic, max_value_bytes=limit)
    if pending:
        raise MessageSizeTooLargeError(f"{dlq_topic} refuses even a dead letter without its value")


async def _send(
    producer: Any,
    letters: list[DeadLetter],
    dlq_topic: str,
    source_topic: str,
    *,
    max_value_bytes: int,
) -> list[DeadLetter]:
    """Send ``letters``; return those refused as too large (other errors are raised)."""
    refused: list[DeadLetter] = []
    sent: list[tuple[DeadLetter, Any]] = []
    for letter in letters:
        value, headers = dlq_record(letter, source_topic, max_value_bytes=max_value_bytes)
        try:
            future = await producer.send(
                dlq_topic, value=value, partition=letter.partition, headers=headers
            )
        except _TOO_LARGE:  # over the producer's own max_request_size
            refused.append(letter)
            continue
        sent.append((letter, future))
    results = await asyncio.gather(*(future for _, future in sent), return_exceptions=True)
    for (letter, _), result in zip(sent, results, strict=True):
        if isinstance(result, _TOO_LARGE):
            refused.append(letter)
        elif isinstance(result, BaseException):
            raise result
    return refused


def _capped(text: str) -> bytes:
    data = text.encode()
    if len(data) <= MAX_HEADER_VALUE_BYTES:
        return data
    return data[: MAX_HEADER_VALUE_BYTES - 3].decode(errors="ignore").encode() + "…".encode()
