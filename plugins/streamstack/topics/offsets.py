"""Watermark offsets of topics: how many records a topic holds, where it ends, how far a reader is behind."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from streamstack.clients import consumer, reach
from streamstack.errors import StreamstackError

#: Broker answers that go away by themselves while a new partition settles. The exception of a
#: failed watermark request does not carry librdkafka's ``retriable`` flag, so they are named.
TRANSIENT = {
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
    KafkaError.REQUEST_TIMED_OUT,
}


def partition_watermarks(client: Any, topic: str, partition: int, timeout: float = 10.0) -> tuple[int, int]:
    """(low, high) watermark of one partition, retrying the broker's transient refusals.

    A partition created a moment ago can answer NOT_LEADER_FOR_PARTITION while its leadership
    settles on the broker (seen in CI right after ``topics apply``); librdkafka retries that for
    produce and fetch, but not for a watermark request. Transient errors are retried until
    ``timeout``; anything else, or the last transient error, is raised.

    :param client: a confluent-kafka ``Consumer``.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            low, high = client.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=max(0.1, deadline - time.monotonic()), cached=False
            )
            return low, high
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            transient = isinstance(error, KafkaError) and (error.retriable() or error.code() in TRANSIENT)
            if not transient or time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


def watermarks(kafka_config: Mapping[str, Any], topic: str, timeout: float = 10.0) -> dict[int, tuple[int, int]]:
    """Partition -> (low, high) watermark of ``topic``; raises if the topic does not exist."""
    c = consumer({**kafka_config, "group.id": "streamstack-offsets", "enable.auto.commit": False})
    try:
        meta = reach(c, kafka_config, timeout=timeout, topic=topic).topics.get(topic)  # a refused login: at once
        if meta is None or meta.error is not None or not meta.partitions:
            raise StreamstackError(f"Kafka topic {topic!r} not found ({meta.error if meta else 'no metadata'})")
        return {p: partition_watermarks(c, topic, p, timeout) for p in sorted(meta.partitions)}
    except KafkaException as exc:
        error = exc.args[0] if exc.args else exc
        detail = error.str() if isinstance(error, KafkaError) else str(error)
        raise StreamstackError(
            f"cannot read the offsets of Kafka topic {topic!r} at {kafka_config.get('bootstrap.servers')}: {detail}"
        ) from None
    finally:
        c.close()


def end_offsets(kafka_config: Mapping[str, Any], topic: str, timeout: float = 10.0) -> dict[int, int]:
    """Partition -> high watermark (the offset the next record will get) of ``topic``."""
    return {p: high for p, (_, high) in watermarks(kafka_config, topic, timeout).items()}


@dataclass
class Lag:
    """How far a reader is behind its input topics, from the offsets it committed.

    One computation for every engine: Spark's committed offsets come from its checkpoint, Flink's
    and Kafka Streams' from their consumer groups. A partition committed past the topic's end
    means the topic was deleted and recreated under the reader: it is reported, never "caught up".
    """

    #: topic -> partition -> records between the committed offset and the end.
    behind: dict[str, dict[int, int]] = field(default_factory=dict)
    #: topic -> partition -> (committed, end) where committed > end.
    beyond_end: dict[str, dict[int, tuple[int, int]]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(n for parts in self.behind.values() for n in parts.values())

    def by_partition(self) -> dict[str, int]:
        """``{"topic/partition": records}``, the shape the reports print."""
        return {f"{t}/{p}": n for t, parts in self.behind.items() for p, n in parts.items()}

    def beyond_end_text(self) -> str:
        return "; ".join(
            f"{t}: " + ", ".join(f"partition {p} at offset {c} > end {e}" for p, (c, e) in parts.items())
            for t, parts in self.beyond_end.items()
        )


#: A gap up to this many offsets is read to see whether it holds a committed record at all.
MARKER_GAP = 1000


def lag(kafka_config: Mapping[str, Any], topics: Iterable[str], committed: Mapping[str, Mapping[int, int]]) -> Lag:
    """The reader's lag on ``topics``; ``committed``: topic -> partition -> next offset to read
    (a partition not committed yet counts from the topic's start).

    A reader that commits the offset after its last record (Flink) stops short of the end by the
    transaction markers and aborted records that follow it: a small gap (up to ``MARKER_GAP``
    offsets) holding no committed record (:func:`holding_records`) is no lag.
    """
    out = Lag()
    for topic in topics:
        done = committed.get(topic, {})
        gaps: dict[int, tuple[int, int]] = {}
        for partition, (low, high) in watermarks(kafka_config, topic).items():
            offset = done.get(partition, -1)
            if offset > high:
                out.beyond_end.setdefault(topic, {})[partition] = (offset, high)
            behind = max(0, high - max(offset, low))
            out.behind.setdefault(topic, {})[partition] = behind
            if 0 < behind <= MARKER_GAP:
                gaps[partition] = (max(offset, low), high)
        if gaps:
            for partition in set(gaps) - holding_records(kafka_config, topic, gaps):
                out.behind[topic][partition] = 0
    return out


def group_offsets(kafka_config: Mapping[str, Any], group: str) -> dict[str, dict[int, int]]:
    """A consumer group's committed offsets (topic -> partition -> offset); empty for an unknown group."""
    from confluent_kafka import ConsumerGroupTopicPartitions

    from streamstack.clients import admin_client

    # Keep the client referenced until the answer is in: a collected AdminClient never completes its futures.
    admin = admin_client(dict(kafka_config))
    future = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)], request_timeout=30)[group]
    out: dict[str, dict[int, int]] = {}
    try:
        partitions = future.result(timeout=60).topic_partitions or []
    except KafkaException as exc:
        if exc.args and exc.args[0].code() == KafkaError.GROUP_ID_NOT_FOUND:
            return out
        raise StreamstackError(f"cannot read the offsets of consumer group {group!r}: {exc}") from None
    for tp in partitions:
        if tp.offset >= 0:
            out.setdefault(tp.topic, {})[tp.partition] = tp.offset
    return out


def holding_records(
    kafka_config: Mapping[str, Any], topic: str, ranges: Mapping[int, tuple[int, int]], timeout: float = 5.0
) -> set[int]:
    """Partitions whose offsets ``[start, end)`` hold a committed record, read ``read_committed``.

    A transactional writer's commit (or abort) marker takes an offset but is never delivered, so a
    consumer that has read every committed record stops one offset short of the end of each
    partition. A partition is free of records only when the consumer's position passes ``end``
    without delivering one; an open transaction (the position waits below it) counts as holding
    records, so the answer errs towards "more to read".
    """
    pending = {p: r for p, r in ranges.items() if r[0] < r[1]}
    if not pending:
        return set()
    c = consumer({**kafka_config, "group.id": f"streamstack-probe-{time.time_ns()}", "enable.auto.commit": False,
                  "isolation.level": "read_committed"})
    try:
        c.assign([TopicPartition(topic, p, start) for p, (start, _) in pending.items()])
        found: set[int] = set()
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            msg = c.poll(0.2)
            if msg is not None and msg.error() is None and msg.partition() in pending:
                if msg.offset() < pending[msg.partition()][1]:
                    found.add(msg.partition())
                pending.pop(msg.partition())
                continue
            if msg is not None and msg.error() is not None and not msg.error().retriable():
                raise StreamstackError(f"reading {topic}: {msg.error()}")
            for tp in c.position([TopicPartition(topic, p) for p in pending]):
                if tp.offset >= pending[tp.partition][1]:
                    pending.pop(tp.partition)
        return found | set(pending)
    finally:
        c.close()


def record_counts(kafka_config: Mapping[str, Any], topics: Iterable[str]) -> dict[str, int]:
    """Records currently held per topic (high - low, summed over partitions)."""
    return {t: sum(high - low for low, high in watermarks(kafka_config, t).values()) for t in topics}


def read_range(
    kafka_config: Mapping[str, Any], topic: str, starts: Mapping[int, int], ends: Mapping[int, int], *,
    isolation: str = "read_committed", timeout: float = 60.0,
) -> Iterator[Any]:
    """Every record of ``topic`` from ``starts`` up to ``ends`` (partition -> offset, end exclusive).

    ``read_committed`` by default, so a transactional writer's aborted records are not seen;
    transaction markers take offsets but deliver nothing, so progress is read from the position.
    Raises when the ends are not reached within ``timeout`` (an open transaction holds a
    ``read_committed`` reader back).
    """
    positions = {p: starts.get(p, 0) for p in ends}
    behind = [p for p in ends if positions[p] < ends[p]]
    if not behind:
        return
    c = consumer({**kafka_config, "group.id": f"streamstack-read-{time.time_ns()}", "enable.auto.commit": False,
                  "isolation.level": isolation})
    try:
        c.assign([TopicPartition(topic, p, positions[p]) for p in behind])
        deadline = time.monotonic() + timeout
        while any(positions[p] < ends[p] for p in behind) and time.monotonic() < deadline:
            msg = c.poll(0.5)
            if msg is None:
                for tp in c.position([TopicPartition(topic, p) for p in behind]):
                    if tp.offset >= 0:
                        positions[tp.partition] = max(positions[tp.partition], tp.offset)
                continue
            if msg.error() is not None:
                raise StreamstackError(f"reading {topic}: {msg.error()}")
            positions[msg.partition()] = msg.offset() + 1
            yield msg
        if any(positions[p] < ends[p] for p in behind):
            raise StreamstackError(f"could not read {topic} to {dict(ends)} in {timeout:.0f}s (at {positions}; "
                                   "a transaction left open?)")
    finally:
        c.close()


def read_to_end(
    kafka_config: Mapping[str, Any], topic: str, *, isolation: str = "read_committed", timeout: float = 60.0,
    raw: bool = False,
) -> list[dict[str, Any]]:
    """Every record of ``topic`` up to its end offsets as of now: key, value (text), partition, offset.

    ``raw``: values as the bytes they are (a topic may hold records that are not UTF-8).
    """
    ends = end_offsets(kafka_config, topic)
    return [{
        "key": msg.key().decode() if msg.key() is not None else None,
        "value": msg.value() if raw or msg.value() is None else msg.value().decode(),
        "partition": msg.partition(),
        "offset": msg.offset(),
        "timestamp": msg.timestamp()[1],
    } for msg in read_range(kafka_config, topic, {}, ends, isolation=isolation, timeout=timeout)]
