"""Checkpoint records: what is written is what is read back."""

from __future__ import annotations

import pytest

from consumers.checkpoints import Checkpoint, checkpoint_key, decode, encode


def test_round_trip_keeps_partition_offset_and_state_bytes() -> None:
    checkpoint = Checkpoint(partition=7, next_offset=123_456, state=b"\x00state\xff" * 1000)
    assert decode(encode(checkpoint)) == checkpoint


def test_unknown_format_is_refused_not_misread() -> None:
    value = bytearray(encode(Checkpoint(1, 2, b"x")))
    value[4 : 4 + len(b'{"v": 1')] = b'{"v": 9'
    with pytest.raises(ValueError, match="unknown checkpoint format 9"):
        decode(bytes(value))


def test_keys_separate_groups_and_partitions() -> None:
    assert checkpoint_key("peakwatch", 3) == b"peakwatch/3"
    assert checkpoint_key("peakwatch", 3) != checkpoint_key("other", 3)
