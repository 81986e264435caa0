"""A paced producer: the simulator's Double-11 records at a fixed rate, acks=all.

    python -m bench.produce --bootstrap B --topic T --rate R --seconds S [--hubs 2000] [--seed 11]

Every 2 ms it sends what is due, grouped per partition into one record batch each (as the
simulator's Kafka sink does); each record's timestamp is the moment it was appended, which is
what the latency measurement counts from. Prints ``RESULT {json}`` with the rate it achieved.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from bench.common import emit
from simulator.simulation import generate

TICK_S = 0.002


def _records(hubs: int, seed: int, count: int) -> list[tuple[bytes, bytes]]:
    records: list[tuple[bytes, bytes]] = []
    for batch in generate("double11", hubs=hubs, seed=seed).batches():
        records.extend(zip(batch.keys(), batch.records(), strict=True))
        if len(records) >= count:
            break
    return records[:count]


async def paced(bootstrap: str, topic: str, rate: float, seconds: float, records: list[Any]) -> Any:
    """Send ``records`` at ``rate`` per second; wait for every acknowledgement."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=256 * 1024
    )
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(topic))
        partitioner = DefaultPartitioner()
        partition_of: dict[bytes, int] = {}
        in_flight: list[asyncio.Future[Any]] = []
        sent = 0
        started = time.perf_counter()
        while sent < len(records):
            due = min(len(records), int(rate * (time.perf_counter() - started)))
            by_partition: dict[int, list[tuple[bytes, bytes]]] = {}
            for key, value in records[sent:due]:
                partition = partition_of.get(key)
                if partition is None:
                    partition = partition_of[key] = partitioner(key, partitions, partitions)
                by_partition.setdefault(partition, []).append((key, value))
            for partition, items in by_partition.items():
                builder = producer.create_batch()
                for key, value in items:
                    if builder.append(timestamp=None, key=key, value=value) is None:
                        in_flight.append(
                            await producer.send_batch(builder, topic, partition=partition)
                        )
                        builder = producer.create_batch()
                        builder.append(timestamp=None, key=key, value=value)
                in_flight.append(await producer.send_batch(builder, topic, partition=partition))
            sent = due
            in_flight = [future for future in in_flight if not future.done()]
            await asyncio.sleep(TICK_S)
        await asyncio.gather(*in_flight)
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
    return {"records": sent, "seconds": elapsed, "records_per_s": sent / elapsed}


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--hubs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    records = _records(args.hubs, args.seed, int(args.rate * args.seconds))
    emit(asyncio.run(paced(args.bootstrap, args.topic, args.rate, args.seconds, records)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
