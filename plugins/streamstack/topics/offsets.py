"""Watermark offsets of topics: how many records a topic holds, and where it ends."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import TopicPartition

from streamstack.clients import consumer
from streamstack.errors import StreamstackError


def watermarks(kafka_config: Mapping[str, Any], topic: str, timeout: float = 10.0) -> dict[int, tuple[int, int]]:
    """Partition -> (low, high) watermark of ``topic``; raises if the topic does not exist."""
    c = consumer({**kafka_config, "group.id": "streamstack-offsets", "enable.auto.commit": False})
    try:
        meta = c.list_topics(topic, timeout=timeout).topics.get(topic)
        if meta is None or meta.error is not None or not meta.partitions:
            raise StreamstackError(f"Kafka topic {topic!r} not found ({meta.error if meta else 'no metadata'})")
        return {
            p: tuple(c.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout, cached=False))
            for p in sorted(meta.partitions)
        }
    finally:
        c.close()


def record_counts(kafka_config: Mapping[str, Any], topics: Iterable[str]) -> dict[str, int]:
    """Records currently held per topic (high - low, summed over partitions)."""
    return {t: sum(high - low for low, high in watermarks(kafka_config, t).values()) for t in topics}
