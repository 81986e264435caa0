"""The peer: Quix Streams doing only the simplest part of the job, on the same topic.

    python -m bench.peers quix --bootstrap B --topic T --expect N

A one-minute tumbling count per hub, with Quix Streams' documented windowing API: the message
key is the hub, the window runs on the event time in the record (``ts``, epoch ms), and the
closed windows are emitted (``.final()``). Throughput is counted from the first record processed
to the last one, as for the other measurements; connecting and joining are ``startup_s``. The
application stops itself once it has been idle for ``IDLE_STOP_S`` after the last record.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
import uuid
from typing import Any

from bench.common import emit

IDLE_STOP_S = 3.0


def quix(bootstrap: str, topic_name: str, expect: int) -> dict[str, Any]:
    """Run the Quix Streams application over the topic; one result."""
    from quixstreams import Application

    started = time.perf_counter()
    seen = {"records": 0, "windows": 0}
    first: list[float] = []
    last: list[float] = []

    def count_record(_value: Any) -> None:
        now = time.perf_counter()
        if not first:
            first.append(now)
        seen["records"] += 1
        if seen["records"] == expect:
            last.append(now)

    def count_window(_value: Any) -> None:
        seen["windows"] += 1

    def event_time(value: Any, _headers: Any, _timestamp: float, _kind: Any) -> int:
        return int(value["ts"])

    with tempfile.TemporaryDirectory(prefix="bench-quix-") as state_dir:
        app = Application(
            broker_address=bootstrap,
            consumer_group=f"bench-quix-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            state_dir=state_dir,
            use_changelog_topics=False,  # the fairest setting for the peer: no extra writes
            loglevel=logging.WARNING,
        )
        topic = app.topic(topic_name, value_deserializer="json", timestamp_extractor=event_time)
        frame = app.dataframe(topic)
        frame = frame.update(count_record)
        frame = frame.tumbling_window(duration_ms=60_000).count().final()
        frame = frame.update(count_window)
        app.run(timeout=IDLE_STOP_S)
    if not first or not last:
        raise RuntimeError(f"quix processed {seen['records']} of {expect} records")
    seconds = last[0] - first[0]
    return {
        "records": seen["records"],
        "windows_emitted": seen["windows"],
        "seconds": seconds,
        "events_per_s": seen["records"] / seconds,
        "startup_s": first[0] - started,
    }


def main() -> int:
    """Entry point: one measurement, one result line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("peer", choices=["quix"])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--expect", type=int, required=True)
    args = parser.parse_args()
    emit(quix(args.bootstrap, args.topic, args.expect))
    return 0


if __name__ == "__main__":
    sys.exit(main())
