"""A live feed: the simulator's Double-11 records paced by their event time, acks=all.

    python -m bench.produce --bootstrap B --topic T --speed X --seconds S [--hubs 2000]
        [--seed 11] [--times FILE.npz]

The records are sent in event-time order, ``--speed`` times faster than the wall clock (60: one
minute of the network per second); ``--seconds`` of wall time. Every 2 ms it sends what is due,
grouped per partition into one record batch each (as the simulator's Kafka sink does, with the
producer's default partitioner). ``--times`` writes, per record sent, its event time, the wall
time it was appended (``time.time()``, what the latency counts from) and its partition. Prints
``RESULT {json}`` with the rate it achieved.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from bench.common import emit
from simulator.simulation import generate

TICK_S = 0.002


def feed(hubs: int, seed: int, event_seconds: float) -> tuple[np.ndarray, list[bytes], list[bytes]]:
    """The first ``event_seconds`` of the scenario: event times (epoch ms, ascending), keys and
    values, in event-time order."""
    stamps: list[pl.Series] = []
    keys: list[bytes] = []
    values: list[bytes] = []
    simulation = generate("double11", hubs=hubs, seed=seed)
    end = simulation.start.timestamp() * 1000 + event_seconds * 1000
    for batch in simulation.batches():
        if batch.minute.timestamp() * 1000 >= end:
            break
        stamps.append(batch.events["ts"].dt.epoch("ms"))
        keys.extend(batch.keys())
        values.extend(batch.records())
    ts_ms = pl.concat(stamps).to_numpy()
    order = np.argsort(ts_ms, kind="stable")
    kept = order[ts_ms[order] < end]
    return ts_ms[kept], [keys[i] for i in kept], [values[i] for i in kept]


async def paced(
    bootstrap: str,
    topic: str,
    speed: float,
    ts_ms: np.ndarray,
    keys: list[bytes],
    values: list[bytes],
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Send the records when their event time is due at ``speed``; wait for every ack."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=256 * 1024
    )
    await producer.start()
    produced_s = np.zeros(ts_ms.size, dtype=np.float64)
    partition = np.zeros(ts_ms.size, dtype=np.int32)
    try:
        partitions = sorted(await producer.partitions_for(topic))
        partitioner = DefaultPartitioner()
        partition_of: dict[bytes, int] = {}
        in_flight: list[asyncio.Future[Any]] = []
        sent = 0
        first_ms = int(ts_ms[0])
        started = time.perf_counter()
        while sent < ts_ms.size:
            due_ms = first_ms + (time.perf_counter() - started) * speed * 1000
            due = int(np.searchsorted(ts_ms, due_ms, side="right"))
            by_partition: dict[int, list[int]] = {}
            for index in range(sent, due):
                key = keys[index]
                number = partition_of.get(key)
                if number is None:
                    number = partition_of[key] = partitioner(key, partitions, partitions)
                by_partition.setdefault(number, []).append(index)
            now = time.time()
            produced_s[sent:due] = now
            for number, indices in by_partition.items():
                partition[indices] = number
                builder = producer.create_batch()
                for index in indices:
                    key, value = keys[index], values[index]
                    if builder.append(timestamp=None, key=key, value=value) is None:
                        in_flight.append(
                            await producer.send_batch(builder, topic, partition=number)
                        )
                        builder = producer.create_batch()
                        builder.append(timestamp=None, key=key, value=value)
                in_flight.append(await producer.send_batch(builder, topic, partition=number))
            sent = due
            in_flight = [future for future in in_flight if not future.done()]
            await asyncio.sleep(TICK_S)
        await asyncio.gather(*in_flight)
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
    result = {"records": sent, "seconds": elapsed, "records_per_s": sent / elapsed}
    return result, produced_s, partition


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--speed", type=float, required=True, help="event seconds per wall second")
    parser.add_argument("--seconds", type=float, required=True, help="wall seconds")
    parser.add_argument("--hubs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--times", type=Path, help="per record: ts_ms, produced_s, partition")
    args = parser.parse_args()
    ts_ms, keys, values = feed(args.hubs, args.seed, args.speed * args.seconds)
    result, produced_s, partition = asyncio.run(
        paced(args.bootstrap, args.topic, args.speed, ts_ms, keys, values)
    )
    if args.times is not None:
        np.savez(args.times, ts_ms=ts_ms, produced_s=produced_s, partition=partition)
    emit(result | {"speed": args.speed, "event_seconds": args.speed * args.seconds})
    return 0


if __name__ == "__main__":
    sys.exit(main())
