"""The KRaft cluster id handed to Kafka's storage tool."""

from __future__ import annotations

import base64

from app.local_kafka import new_cluster_id


def test_cluster_ids_never_start_with_a_dash_and_decode_to_a_uuid() -> None:
    # One random id in 64 starts with "-"; 5,000 draws meet one almost surely.
    ids = [new_cluster_id() for _ in range(5_000)]
    assert not [cluster_id for cluster_id in ids if cluster_id.startswith("-")]
    assert all(len(base64.urlsafe_b64decode(cluster_id + "==")) == 16 for cluster_id in ids)
    assert len(set(ids)) == len(ids)
