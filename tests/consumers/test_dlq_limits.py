"""A dead letter is never refused for its size nor dropped: too large, it is cut and says so."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError

from consumers.batch import DeadLetter
from consumers.dlq import (
    MAX_HEADER_VALUE_BYTES,
    MAX_VALUE_BYTES,
    REFUSED_VALUE_BYTES,
    dlq_record,
    send_dead_letters,
)


class FakeProducer:
    """Stores what it is sent; refuses values over ``broker_limit`` the way a broker does."""

    def __init__(self, *, broker_limit: int, error: Exception | None = None) -> None:
        self.broker_limit = broker_limit
        self.error = error
        self.stored: list[tuple[str, int, bytes, dict[str, bytes]]] = []

    async def send(
        self, topic: str, *, value: bytes, partition: int, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.error is not None:
            future.set_exception(self.error)
        elif len(value) > self.broker_limit:
            future.set_exception(MessageSizeTooLargeError())
        else:
            self.stored.append((topic, partition, value, dict(headers)))
            future.set_result(None)
        return future


def _letter(value: bytes, offset: int = 7) -> DeadLetter:
    return DeadLetter(
        partition=1,
        offset=offset,
        value=value,
        reason_code="too_large",
        field="(record)",
        reason="must be at most 65536 bytes",
    )


def test_a_value_over_the_dlq_limit_is_cut_with_a_header_saying_so() -> None:
    value, headers = dlq_record(_letter(b"x" * (MAX_VALUE_BYTES + 10)), "hub-events")
    assert len(value) == MAX_VALUE_BYTES
    assert dict(headers)["peakwatch-truncated"] == (
        f"kept {MAX_VALUE_BYTES} of {MAX_VALUE_BYTES + 10} bytes".encode()
    )
    value, headers = dlq_record(_letter(b"x" * MAX_VALUE_BYTES), "hub-events")
    assert len(value) == MAX_VALUE_BYTES
    assert "peakwatch-truncated" not in dict(headers)


def test_long_reasons_are_cut_to_a_bounded_header() -> None:
    letter = DeadLetter(1, 7, b"{}", "malformed", "(record)", "é" * 5_000)
    reason = dict(dlq_record(letter, "hub-events")[1])["peakwatch-reason"]
    assert len(reason) <= MAX_HEADER_VALUE_BYTES
    assert reason.decode().endswith("…")


async def test_a_letter_the_broker_refuses_as_too_large_is_sent_again_cut(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A DLQ topic created by an older version keeps Kafka's default limit of 1 MiB.
    producer = FakeProducer(broker_limit=1024 * 1024)
    letters = [_letter(b"small", offset=1), _letter(b"y" * (2 * 1024 * 1024), offset=2)]
    with caplog.at_level(logging.ERROR, logger="consumers.dlq"):
        await send_dead_letters(producer, letters, dlq_topic="hub-events-dlq", source_topic="e")
    stored = {
        headers["peakwatch-source"]: (value, headers) for _, _, value, headers in producer.stored
    }
    assert stored[b"e/1/1"][0] == b"small"
    value, headers = stored[b"e/1/2"]
    assert len(value) == REFUSED_VALUE_BYTES
    assert headers["peakwatch-truncated"] == f"kept {REFUSED_VALUE_BYTES} of 2097152 bytes".encode()
    assert "set max.message.bytes=67108864 on topic hub-events-dlq" in caplog.text


async def test_a_dlq_that_takes_no_value_still_gets_the_headers() -> None:
    producer = FakeProducer(broker_limit=0)
    await send_dead_letters(producer, [_letter(b"{}")], dlq_topic="dlq", source_topic="e")
    [(_, _, value, headers)] = producer.stored
    assert value == b""
    assert headers["peakwatch-truncated"] == b"kept 0 of 2 bytes"


async def test_other_producer_errors_are_raised_for_the_batch_to_be_retried() -> None:
    producer = FakeProducer(broker_limit=1024, error=KafkaTimeoutError())
    with pytest.raises(KafkaTimeoutError):
        await send_dead_letters(producer, [_letter(b"{}")], dlq_topic="dlq", source_topic="e")
