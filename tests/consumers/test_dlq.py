"""DLQ headers tell an operator where a record came from and why it was refused."""

from __future__ import annotations

from consumers.batch import DeadLetter
from consumers.dlq import dlq_headers


def test_headers_carry_reason_field_and_source() -> None:
    letter = DeadLetter(
        partition=2,
        offset=41,
        value=b"{oops",
        reason_code="malformed",
        field="(record)",
        reason="not valid JSON",
    )
    assert dict(dlq_headers(letter, "hub-events")) == {
        "peakwatch-reason-code": b"malformed",
        "peakwatch-field": b"(record)",
        "peakwatch-reason": b"not valid JSON",
        "peakwatch-source": b"hub-events/2/41",
    }
