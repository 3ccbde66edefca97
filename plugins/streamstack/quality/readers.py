"""Read a batch of enriched purchases from a JSON-lines file, a Kafka offset range or Pinot.

Each reader returns a ``Batch``: the rows as decoded (no type coercion, so the suite sees what
the source really holds), where each row came from, and the records that were not JSON objects
at all — those cannot be rows, and the runner counts them as a critical failure instead of
dropping them.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from streamstack.errors import StreamstackError
from streamstack.events import PURCHASE_ENRICHED, field_names, format_timestamp, with_defaults
from streamstack.topics.offsets import partition_watermarks

if TYPE_CHECKING:
    from streamstack.pinot.client import PinotClient

log = logging.getLogger(__name__)

PINOT_TABLE = "purchasesEnriched"


class SourceError(StreamstackError):
    """A source could not be read completely (unreachable, missing topic, too many rows)."""


@dataclass(frozen=True)
class Rejected:
    """A record that is not a JSON object: where it was and why it was refused."""

    location: str
    reason: str
    payload: str


@dataclass
class Batch:
    """Rows to validate and their provenance.

    :param frame: one row per record, columns as the records have them.
    :param source: human description, e.g. ``kafka demo.purchases.enriched p0[10:20)``.
    :param locations: per row, where it came from (``line 7``, ``p1@1234``); same order as ``frame``.
    :param rejected: records that could not become rows.
    :param window: the (start, end) this batch covers, if it is a time window.
    """

    frame: pd.DataFrame
    source: str
    locations: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    window: tuple[datetime, datetime] | None = None

    @property
    def is_empty(self) -> bool:
        return len(self.frame) == 0 and not self.rejected


def _decode(
    payload: bytes | str,
    location: str,
    rows: list[dict[str, Any]],
    locations: list[str],
    rejected: list[Rejected],
) -> None:
    text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else payload
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        rejected.append(Rejected(location, f"not JSON: {exc.msg} at char {exc.pos}", text[:500]))
        return
    if not isinstance(record, dict):
        rejected.append(Rejected(location, f"not a JSON object but {type(record).__name__}", text[:500]))
        return
    rows.append(record)
    locations.append(location)


def frame_from_records(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Records as a DataFrame with the schema's columns first (missing keys stay missing)."""
    # A field added later (identity_derived) is absent from older records: they take its default.
    records = [with_defaults(r, PURCHASE_ENRICHED) for r in records]
    frame = (
        pd.DataFrame.from_records(records)
        if records
        else pd.DataFrame(columns=field_names(PURCHASE_ENRICHED))
    )
    order = [c for c in field_names(PURCHASE_ENRICHED) if c in frame.columns]
    return frame[order + [c for c in frame.columns if c not in order]]


def read_jsonl(path: Path | str) -> Batch:
    """A JSON-lines file of enriched purchases (blank lines are skipped)."""
    path = Path(path)
    rows: list[dict[str, Any]] = []
    locations: list[str] = []
    rejected: list[Rejected] = []
    try:
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    _decode(line, f"line {number}", rows, locations, rejected)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc}") from None
    return Batch(frame_from_records(rows), f"file {path}", locations, rejected)


# -- Kafka ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OffsetRange:
    """Offsets ``[start, end)`` of one partition."""

    partition: int
    start: int
    end: int


def _millis(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def kafka_offsets_for_window(
    config: Mapping[str, Any], topic: str, start: datetime, end: datetime, timeout: float = 30.0
) -> list[OffsetRange]:
    """The offset range of every partition holding messages with timestamps in ``[start, end)``.

    Uses the broker's time index (message timestamps, i.e. when the enrichment job wrote them).
    """
    from confluent_kafka import TopicPartition

    consumer = _consumer(config)
    try:
        partitions = _partitions(consumer, topic, timeout, config)
        # One lookup per bound: librdkafka answers a partition once per request.
        firsts = consumer.offsets_for_times(
            [TopicPartition(topic, p, _millis(start)) for p in partitions], timeout=timeout
        )
        lasts = consumer.offsets_for_times(
            [TopicPartition(topic, p, _millis(end)) for p in partitions], timeout=timeout
        )
        ranges = []
        for partition, first_tp, last_tp in zip(partitions, firsts, lasts, strict=True):
            if first_tp.error or last_tp.error:
                raise SourceError(
                    f"cannot look up offsets of {topic}[{partition}] by time: {first_tp.error or last_tp.error}"
                )
            low, high = partition_watermarks(consumer, topic, partition, timeout)
            # -1: no message at or after that time -> the range runs to the end of the partition.
            first = max(first_tp.offset if first_tp.offset >= 0 else high, low)
            last = max(last_tp.offset if last_tp.offset >= 0 else high, first)
            ranges.append(OffsetRange(partition, first, last))
        return ranges
    finally:
        consumer.close()


def _consumer(config: Mapping[str, Any]) -> Any:
    from streamstack.clients import consumer

    return consumer(
        {
            "group.id": "streamstack-quality",
            **dict(config),
            # Read-only: never commit, never join with a subscription; offsets come from us.
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
            # The engines' sinks are transactional (Flink, Kafka Streams): never check aborted rows.
            "isolation.level": "read_committed",
        }
    )


def _partitions(consumer: Any, topic: str, timeout: float, config: Mapping[str, Any]) -> list[int]:
    from confluent_kafka import KafkaException

    from streamstack.clients import KafkaRefused, reach

    try:
        metadata = reach(consumer, config, timeout=timeout, topic=topic)
    except KafkaRefused as exc:
        raise SourceError(str(exc)) from None
    except KafkaException as exc:
        raise SourceError(f"cannot reach Kafka to describe {topic}: {exc}") from None
    info = metadata.topics.get(topic)
    if info is None or info.error is not None or not info.partitions:
        reason = info.error.str() if info is not None and info.error is not None else "no such topic"
        raise SourceError(f"topic {topic!r}: {reason}")
    return sorted(info.partitions)


def read_kafka_range(
    config: Mapping[str, Any],
    topic: str,
    ranges: Iterable[OffsetRange],
    *,
    timeout: float = 60.0,
    window: tuple[datetime, datetime] | None = None,
) -> Batch:
    """Exactly the messages of ``ranges``; raises ``SourceError`` if they cannot all be read in ``timeout``.

    Offsets already deleted by retention start the range at the partition's low watermark.
    """
    from confluent_kafka import KafkaError, KafkaException, TopicPartition

    wanted = {r.partition: r for r in ranges if r.end > r.start}
    described = ", ".join(
        f"p{r.partition}[{r.start}:{r.end})" for r in sorted(wanted.values(), key=lambda r: r.partition)
    )
    source = f"kafka {topic} {described or '(no offsets)'}"
    rows: list[dict[str, Any]] = []
    locations: list[str] = []
    rejected: list[Rejected] = []
    if not wanted:
        return Batch(frame_from_records([]), source, window=window)
    consumer = _consumer(config)
    try:
        _partitions(consumer, topic, min(timeout, 30.0), config)  # a refused login fails here, at once
        consumer.assign([TopicPartition(topic, p, r.start) for p, r in wanted.items()])
        position = {p: r.start for p, r in wanted.items()}
        deadline = time.monotonic() + timeout
        while any(position[p] < r.end for p, r in wanted.items()):
            if time.monotonic() > deadline:
                missing = {p: (position[p], r.end) for p, r in wanted.items() if position[p] < r.end}
                raise SourceError(
                    f"timed out after {timeout:.0f}s reading {topic}; partitions not complete (at, end): {missing}"
                )
            for message in consumer.consume(num_messages=5000, timeout=1.0):
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        continue
                    raise SourceError(f"error reading {topic}: {error.str()}")
                partition, offset = message.partition(), message.offset()
                r = wanted.get(partition)
                if r is None or offset >= r.end:
                    position[partition] = max(position.get(partition, 0), offset + 1)
                    continue
                position[partition] = offset + 1
                if offset < r.start:
                    continue
                _decode(message.value() or b"", f"p{partition}@{offset}", rows, locations, rejected)
            # Retention may have removed the start: jump to what the broker still has.
            for p, r in wanted.items():
                if position[p] < r.end:
                    low, _high = consumer.get_watermark_offsets(TopicPartition(topic, p), cached=True)
                    if low > position[p]:
                        position[p] = low
    except KafkaException as exc:
        raise SourceError(f"error reading {topic}: {exc}") from None
    finally:
        consumer.close()
    return Batch(frame_from_records(rows), source, locations, rejected, window)


def read_kafka_window(
    config: Mapping[str, Any], topic: str, start: datetime, end: datetime, *, timeout: float = 60.0
) -> Batch:
    """Messages of ``topic`` whose Kafka timestamps fall in ``[start, end)``."""
    ranges = kafka_offsets_for_window(config, topic, start, end, timeout=min(timeout, 30.0))
    batch = read_kafka_range(config, topic, ranges, timeout=timeout, window=(start, end))
    batch.source = f"{batch.source} time [{format_timestamp(start)}, {format_timestamp(end)})"
    return batch


# -- Pinot ------------------------------------------------------------------------------------


def _pinot_time(value: Any) -> Any:
    """Pinot returns a TIMESTAMP as epoch millis or as ``yyyy-MM-dd HH:mm:ss.SSS`` (JVM in UTC).

    Normalise to the event format (millisecond precision, as stored) so the suite checks the
    data, not Pinot's rendering. Anything unrecognised passes through and fails the parse check.
    """
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return format_timestamp(datetime.fromtimestamp(value / 1000, tz=UTC))
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("T", " ").rstrip("Z"))
        except ValueError:
            return value
        return format_timestamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return value


def read_pinot_window(
    client: PinotClient,
    start: datetime,
    end: datetime,
    *,
    table: str = PINOT_TABLE,
    max_rows: int = 1_000_000,
) -> Batch:
    """Rows of ``table`` with ``transaction_timestamp`` (epoch ms) in ``[start, end)``.

    Filters on the LONG column because its literal semantics are unambiguous; more than
    ``max_rows`` rows raise instead of silently checking a truncated window.
    """
    columns = field_names(PURCHASE_ENRICHED)
    sql = (
        f"SELECT {', '.join(columns)} FROM {table} "
        f"WHERE transaction_timestamp >= {_millis(start)} AND transaction_timestamp < {_millis(end)} "
        f"LIMIT {max_rows + 1}"
    )
    records = client.query(sql)
    if len(records) > max_rows:
        raise SourceError(
            f"more than {max_rows} rows in {table} for [{start}, {end}); narrow the window or raise max_rows"
        )
    for record in records:
        if "transaction_time" in record:
            record["transaction_time"] = _pinot_time(record["transaction_time"])
    source = f"pinot {table} [{format_timestamp(start)}, {format_timestamp(end)})"
    return Batch(
        frame_from_records(records), source, [f"pinot row {i}" for i in range(len(records))], [], (start, end)
    )
