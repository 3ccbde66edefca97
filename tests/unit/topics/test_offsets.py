"""Watermark lookups ride out a new partition's leadership settling, and fail on anything else."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException

from streamstack.topics.offsets import partition_watermarks


class FlakyConsumer:
    """Answers ``errors`` first (one per call), then the watermarks."""

    def __init__(self, *errors: int) -> None:
        self.errors = list(errors)
        self.calls = 0

    def get_watermark_offsets(self, tp, timeout: float, cached: bool) -> tuple[int, int]:
        self.calls += 1
        if self.errors:
            raise KafkaException(KafkaError(self.errors.pop(0)))
        return (0, 42)


def test_not_leader_right_after_creation_is_retried() -> None:
    client = FlakyConsumer(KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE)
    assert partition_watermarks(client, "t", 0, timeout=5) == (0, 42)
    assert client.calls == 3


def test_other_errors_are_raised_at_once() -> None:
    client = FlakyConsumer(KafkaError.TOPIC_AUTHORIZATION_FAILED)
    with pytest.raises(KafkaException, match="TOPIC_AUTHORIZATION_FAILED"):
        partition_watermarks(client, "t", 0, timeout=5)
    assert client.calls == 1


def test_a_partition_that_never_settles_fails_after_the_timeout() -> None:
    client = FlakyConsumer(*[KafkaError.NOT_LEADER_FOR_PARTITION] * 1000)
    with pytest.raises(KafkaException, match="NOT_LEADER"):
        partition_watermarks(client, "t", 0, timeout=0.5)
    assert 1 < client.calls < 10
