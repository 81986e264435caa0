"""The dead-letter queue: records that break schema v1 go to ``hub-events-dlq`` unchanged.

The value is the original bytes and the key the original key; the headers say where the record came
from and why it was refused, so an operator can fix the sender and replay:

    peakwatch-reason-code   malformed | schema | unknown_hub | carrier_mismatch | future_ts
    peakwatch-field         the field at fault, or "(record)"
    peakwatch-reason        the rule broken, in words
    peakwatch-source        hub-events/<partition>/<offset>
"""

from __future__ import annotations

import asyncio
from typing import Any

from consumers.batch import DeadLetter


def dlq_headers(letter: DeadLetter, source_topic: str) -> list[tuple[str, bytes]]:
    """The headers of one DLQ record."""
    return [
        ("peakwatch-reason-code", letter.reason_code.encode()),
        ("peakwatch-field", letter.field.encode()),
        ("peakwatch-reason", letter.reason.encode()),
        ("peakwatch-source", f"{source_topic}/{letter.partition}/{letter.offset}".encode()),
    ]


async def send_dead_letters(
    producer: Any, letters: list[DeadLetter], *, dlq_topic: str, source_topic: str
) -> None:
    """Produce every letter (acks=all) to the partition it came from; return once all are stored."""
    if not letters:
        return
    futures = [
        await producer.send(
            dlq_topic,
            value=letter.value,
            partition=letter.partition,
            headers=dlq_headers(letter, source_topic),
        )
        for letter in letters
    ]
    await asyncio.gather(*futures)
