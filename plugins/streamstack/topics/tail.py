"""The newest records of a topic, readably: what the seed checks with Kafka's console consumer.

Committed records only (``read_committed``: what every engine and Pinot read), each with its
partition, offset, time and key. A value is shown as compact JSON when it is JSON, as text when it
is UTF-8, and as its size and first bytes in hex when it is neither (dead letters keep binary
payloads as they came); a long value is cut, saying how long it was.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import TopicPartition

from streamstack.clients import consumer
from streamstack.errors import StreamstackError
from streamstack.topics.offsets import read_range, watermarks

#: Characters of a value shown before it is cut.
WIDTH = 400


@dataclass(frozen=True)
class Record:
    """One record as read from the broker."""

    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None

    def line(self, width: int = WIDTH) -> str:
        """``p<partition>@<offset> <time> key=<key> <value>`` on one line."""
        when = datetime.fromtimestamp(self.timestamp_ms / 1000, UTC).isoformat(timespec="milliseconds")
        key = "-" if self.key is None else _text(self.key, 80)
        return f"p{self.partition}@{self.offset} {when.replace('+00:00', 'Z')} key={key} {_text(self.value, width)}"


def _text(raw: bytes | None, width: int) -> str:
    if raw is None:
        return "<null>"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(raw)} bytes, not UTF-8: {raw[:16].hex(' ')}{' …' if len(raw) > 16 else ''}>"
    try:
        text = json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        text = text.replace("\n", "\\n")
    if len(text) > width:
        return f"{text[:width]}… ({len(raw):,} bytes)"
    return text


def _consumer(kafka_config: Mapping[str, Any]) -> Any:
    return consumer({**kafka_config, "group.id": f"streamstack-tail-{time.time_ns()}", "enable.auto.commit": False,
                     "isolation.level": "read_committed"})


def _record(msg: Any) -> Record:
    if msg.error() is not None:
        raise StreamstackError(f"reading {msg.topic()}: {msg.error()}")
    return Record(msg.partition(), msg.offset(), msg.timestamp()[1], msg.key(), msg.value())


def tail(kafka_config: Mapping[str, Any], topic: str, n: int = 10, *, follow: bool = False,
         stop: Callable[[], bool] = lambda: False, timeout: float = 30.0) -> Iterator[Record]:
    """The newest ``n`` records of ``topic`` (across partitions, oldest first), then, with ``follow``,
    every new one as it is committed until ``stop()`` is true."""
    marks = watermarks(kafka_config, topic)  # a topic that does not exist: an error naming it
    # Up to n from each partition's end: the newest n overall are among them.
    starts = {p: max(low, high - n) for p, (low, high) in marks.items()}
    ends = {p: high for p, (_, high) in marks.items()}
    newest = [_record(m) for m in read_range(kafka_config, topic, starts, ends, timeout=timeout)]
    newest.sort(key=lambda r: (r.timestamp_ms, r.partition, r.offset))
    yield from newest[-n:] if n > 0 else []
    if not follow:
        return
    c = _consumer(kafka_config)
    try:
        c.assign([TopicPartition(topic, p, end) for p, end in ends.items()])
        while not stop():
            msg = c.poll(0.2)
            if msg is not None:
                yield _record(msg)
    finally:
        c.close()
