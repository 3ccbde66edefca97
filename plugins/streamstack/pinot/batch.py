"""Did every purchase line of a generator run reach Pinot's enriched table?

The quality gate judges the enriched rows of a window; it cannot see rows that never arrived. An
engine that rejects everything (seen: Flink refused every product record, so every purchase was
``no_product_version``) leaves the window to earlier runs' rows and the gate passes. This check
counts the run's own lines: the generator stamps each purchase with a time inside its run (its
wall clock, or the simulated days), so the enriched rows whose ``transaction_timestamp`` lies in
that range must number at least the lines it sent. At least, not exactly: another run in the same
range (a scheduled generator) only adds rows, and Pinot's dedup drops a rerun's repeats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from streamstack import events


class _Queries(Protocol):
    def query(self, sql: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class BatchAccount:
    """What Pinot holds of one generator run."""

    expected: int
    enriched: int
    start_ms: int
    end_ms: int
    dead_letters: int = 0
    #: A few reasons of the dead letters written since the run started.
    reasons: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.enriched >= self.expected

    def summary(self) -> str:
        start, end = (datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S") for ms in
                      (self.start_ms, self.end_ms))
        text = (f"the run's {self.expected} purchase lines ({start} - {end} UTC): {self.enriched} enriched rows in "
                f"Pinot, {self.dead_letters} dead letters since the run started")
        return text + (f", e.g. {'; '.join(self.reasons)}" if self.reasons else "")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "complete": self.complete}


def _ms(text: str, *, event_time: bool) -> int:
    moment = events.parse_timestamp(text) if event_time else datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def batch_range(generated: Mapping[str, Any]) -> tuple[int, int]:
    """Epoch milliseconds ``[start, end]`` of the run's transaction times, from the generator's summary.

    A simulated run (``simulated_days``) stamps its own clock: first to last event time. A live
    one stamps the wall clock between ``started_at`` and ``finished_at``.
    """
    if generated.get("simulated_days") and generated.get("first_event_time") and generated.get("last_event_time"):
        return (_ms(generated["first_event_time"], event_time=True),
                _ms(generated["last_event_time"], event_time=True))
    try:
        return _ms(generated["started_at"], event_time=False), _ms(generated["finished_at"], event_time=False)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"the generator's summary has no usable started_at/finished_at: {exc}") from None


def account(
    client: _Queries,
    generated: Mapping[str, Any],
    *,
    enriched_table: str = "purchasesEnriched",
    dead_letter_table: str = "deadLetters",
) -> BatchAccount:
    """Count the run's enriched rows in Pinot, and the dead letters written since it started."""
    start, end = batch_range(generated)
    expected = int(generated.get("purchases") or 0)
    (row,) = client.query(
        f"SELECT COUNT(*) AS n FROM {enriched_table} WHERE transaction_timestamp BETWEEN {start} AND {end}"
    )
    enriched = int(row["n"])
    (dl,) = client.query(f"SELECT COUNT(*) AS n FROM {dead_letter_table} WHERE rejected_at >= {start}")
    dead = int(dl["n"])
    reasons: list[str] = []
    if dead and enriched < expected:
        rows = client.query(f"SELECT reason FROM {dead_letter_table} WHERE rejected_at >= {start} LIMIT 3")
        reasons = [str(r["reason"]) for r in rows]
    return BatchAccount(expected, enriched, start, end, dead, reasons)
