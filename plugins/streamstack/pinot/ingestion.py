"""Has Pinot caught up with Kafka? Per-table lag in offsets, row counts and freshness.

Lag is measured in offsets, not rows: the Kafka end offset of each partition minus the next
offset Pinot's consuming segment will read. A transactional topic (Flink, Kafka Streams) ends
each partition in a commit marker that Pinot never "reads": a partition whose remaining offsets
hold no committed record is caught up. Row counts cannot be compared for dedup and upsert
tables (duplicates and older versions are dropped on purpose) nor for compacted topics.
Freshness is now minus the newest value of the table's time column.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from streamstack.errors import StreamstackError
from streamstack.pinot.client import PinotClient, PinotError
from streamstack.pinot.tables import TableSpec
from streamstack.topics.offsets import holding_records, watermarks

log = logging.getLogger(__name__)


class IngestionTimeout(StreamstackError):
    """A table did not catch up with its topic within the allowed time."""


@dataclass
class TableIngestion:
    """One table's ingestion state at one moment."""

    table: str
    topic: str
    end_offsets: dict[int, int]
    consumed_offsets: dict[int, int]
    rows: int
    newest_ms: float | None
    measured_at: float = field(default_factory=time.time)
    #: Partitions behind the end offset by transaction markers (or aborted records) only.
    markers_only: list[int] = field(default_factory=list)
    #: False while the broker does not route the table yet (created seconds ago): ``rows`` is
    #: then unknown, though the server may have consumed everything already.
    routed: bool = True

    @property
    def not_consuming(self) -> list[int]:
        """Partitions with data but no consuming segment (a failed commit stops a partition)."""
        return sorted(p for p, end in self.end_offsets.items() if end > 0 and p not in self.consumed_offsets)

    @property
    def beyond_end(self) -> dict[int, tuple[int, int]]:
        """Partition -> (consumed, end) where Pinot waits past the topic's end.

        That happens when the topic was deleted and recreated (``stack reset kafka``): the
        consuming segment waits at the old offset and ingests nothing, forever. It is an
        error, never "caught up".
        """
        return {
            p: (self.consumed_offsets[p], end)
            for p, end in sorted(self.end_offsets.items())
            if self.consumed_offsets.get(p, 0) > end
        }

    @property
    def lag(self) -> int:
        return sum(
            max(end - self.consumed_offsets.get(p, 0), 0)
            for p, end in self.end_offsets.items()
            if p not in self.markers_only
        )

    @property
    def caught_up(self) -> bool:
        return self.routed and self.lag == 0 and not self.not_consuming and not self.beyond_end

    def beyond_end_error(self) -> str:
        where = ", ".join(f"partition {p} at offset {c} > end {e}" for p, (c, e) in self.beyond_end.items())
        return (
            f"Pinot table {self.table} consumes beyond the end of topic {self.topic} ({where}): the topic was "
            f"recreated under it; re-create the table (`streamstack pinot apply --recreate {self.table}`) "
            "or reset Pinot with Kafka (`streamstack stack reset kafka`)"
        )

    @property
    def freshness_s(self) -> float | None:
        """Seconds between now and the newest event in the table (None when empty)."""
        return None if self.newest_ms is None else self.measured_at - self.newest_ms / 1000.0

    def summary(self) -> str:
        fresh = "n/a" if self.freshness_s is None else f"{self.freshness_s:.1f}s"
        parts = f" not consuming partitions {self.not_consuming}" if self.not_consuming else ""
        if self.beyond_end:
            parts += f" consuming beyond the end of the topic {self.beyond_end}"
        return f"{self.table}: rows={self.rows} lag={self.lag} offsets freshness={fresh}{parts}"

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "lag": self.lag,
            "caught_up": self.caught_up,
            "freshness_s": self.freshness_s,
            "beyond_end": {str(p): list(v) for p, v in self.beyond_end.items()},
        }


def end_offsets(kafka_config: Mapping[str, str], topic: str, timeout: float = 10.0) -> dict[int, int]:
    """Partition -> high watermark (next offset to be written) of ``topic``."""
    return {p: high for p, (_low, high) in watermarks(kafka_config, topic, timeout).items()}


def measure(client: PinotClient, spec: TableSpec, kafka_config: Mapping[str, str]) -> TableIngestion:
    """Read the topic's end offsets first, then Pinot: lag can only be over-, never under-stated."""
    ends = end_offsets(kafka_config, spec.topic)
    consumed = client.consuming_offsets(spec.name)
    try:
        response = client.query_response(f"SELECT COUNT(*), MAX({spec.time_column}) FROM {spec.name}")
    except PinotError as exc:
        # A table created seconds ago is not routed by the broker yet: not caught up (its server
        # may have consumed every offset already: seen as "caught up, 0 rows"), not an error.
        if "BrokerResourceMissingError" not in str(exc):
            raise
        response = {}
    result = (response.get("resultTable") or {}).get("rows") or []
    # Routed means the broker asked at least one segment per consuming partition: a broker that
    # knows the table but not its new consuming segment answers 0 rows from no segment at all.
    routed = int(response.get("numSegmentsQueried", 0)) >= len(consumed) if response else False
    count, newest = (int(result[0][0]), result[0][1]) if result else (0, None)
    newest_ms = float(newest) if isinstance(newest, int | float) and count > 0 else None
    behind = {p: (consumed[p], end) for p, end in ends.items() if p in consumed and consumed[p] < end}
    markers = sorted(set(behind) - holding_records(kafka_config, spec.topic, behind)) if behind else []
    return TableIngestion(spec.name, spec.topic, ends, consumed, count, newest_ms, markers_only=markers,
                          routed=routed)


def wait_caught_up(
    client: PinotClient,
    spec: TableSpec,
    kafka_config: Mapping[str, str],
    *,
    timeout: float = 120.0,
    poll: float = 1.0,
) -> TableIngestion:
    """Poll until the table has consumed everything in its topic; raise ``IngestionTimeout`` if not."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            state = measure(client, spec, kafka_config)
        except PinotError as exc:
            # A loaded server misses the broker's query timeout ("servers [...] not responded"):
            # ask again until the deadline; any other failure is not transient.
            if "not responded" not in str(exc) or time.monotonic() >= deadline:
                raise
            log.info("%s: %s; asking again", spec.name, exc.pinot_message or exc)
            time.sleep(poll)
            continue
        log.info("%s", state.summary())
        if state.caught_up:
            return state
        if state.beyond_end:
            raise StreamstackError(state.beyond_end_error())
        if time.monotonic() >= deadline:
            raise IngestionTimeout(
                f"Pinot table {spec.name} did not catch up with topic {spec.topic} within {timeout:.0f}s: "
                f"{state.summary()}; end offsets {state.end_offsets}, consumed {state.consumed_offsets}. "
                "Check the pinot log (`streamstack stack logs pinot`)."
            )
        time.sleep(poll)
