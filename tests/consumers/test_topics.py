"""The topics as the service creates them."""

from __future__ import annotations

from consumers.topics import MAX_DEAD_LETTER_BYTES, TopicNames, topic_specs


def test_the_dlq_topic_takes_any_events_record_plus_headers() -> None:
    specs = {
        spec.name: spec for spec in topic_specs(TopicNames(), partitions=3, replication_factor=1)
    }
    dlq_limit = int(specs["hub-events-dlq"].topic_configs["max.message.bytes"])
    # hub-events keeps the broker's limit (1 MiB by default); the DLQ allows 64 times that.
    assert "max.message.bytes" not in specs["hub-events"].topic_configs
    assert dlq_limit == MAX_DEAD_LETTER_BYTES >= 64 * 1024 * 1024
