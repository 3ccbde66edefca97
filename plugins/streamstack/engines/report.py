"""What one bounded run of a job did, in numbers, the same way for every engine.

Taken from outside the job, from Kafka: what there was to read is the job's lag when it was
submitted; what it wrote is the growth of its output topic's end offsets over the run (claims
keep other engines off that topic); its dead letters are read back from exactly that range of
the dead-letter topic, those whose ``rejected_by`` is this engine's job, counted by reason code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from streamstack.engines.choice import JOB_OUTPUTS
from streamstack.topics.offsets import end_offsets

DEAD_LETTERS = "purchases_invalid"


@dataclass
class RunReport:
    """One job's run: input records to read, records written per output, dead letters by reason."""

    engine: str
    job: str
    to_read: int
    written: dict[str, int] = field(default_factory=dict)
    dead_letters_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def dead_letters(self) -> int:
        return sum(self.dead_letters_by_reason.values())

    def line(self) -> str:
        wrote = "; ".join(f"wrote {n:,} to {topic}" for topic, n in self.written.items()) or "wrote nothing"
        reasons = ", ".join(f"{code} {n:,}" for code, n in sorted(self.dead_letters_by_reason.items()))
        dead = f"; dead-lettered {self.dead_letters:,}" + (f" ({reasons})" if reasons else "")
        return f"{self.job}: read {self.to_read:,} input records; {wrote}{dead}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "dead_letters": self.dead_letters}


def output_offsets(kafka_config: Mapping[str, Any], topics: Mapping[str, str], job: str) -> dict[str, dict[str, int]]:
    """End offsets of ``job``'s output topics now (``topics``: logical -> Kafka name), JSON-safe."""
    return {topics[t]: {str(p): o for p, o in end_offsets(kafka_config, topics[t]).items()} for t in JOB_OUTPUTS[job]}


def run_report(kafka_config: Mapping[str, Any], topics: Mapping[str, str], engine: str, job: str, to_read: int,
               before: Mapping[str, Mapping[str, int]]) -> RunReport:
    """``job``'s numbers since ``before`` (``output_offsets`` at submission)."""
    report = RunReport(engine, job, to_read)
    after = output_offsets(kafka_config, topics, job)
    for logical in JOB_OUTPUTS[job]:
        name = topics[logical]
        ranges = {int(p): (int(before.get(name, {}).get(p, 0)), end) for p, end in after[name].items()
                  if end > int(before.get(name, {}).get(p, 0))}
        if logical == DEAD_LETTERS:
            report.dead_letters_by_reason = count_reasons(dict(kafka_config), name, ranges,
                                                          rejected_by=f"{engine}.{job}")
        else:
            report.written[name] = sum(end - start for start, end in ranges.values())
    return report


def count_reasons(
    kafka_config: dict[str, Any], topic: str, ranges: dict[int, tuple[int, int]], timeout: float = 60.0,
    rejected_by: str | None = None,
) -> dict[str, int]:
    """Reason codes of the dead letters at exactly ``ranges`` ({partition: (start, end)}), of
    ``rejected_by`` only when given."""
    from confluent_kafka import TopicPartition

    from streamstack.clients import consumer

    if not ranges:
        return {}
    counts: dict[str, int] = {}
    reader = consumer(
        {
            "group.id": "streamstack-run-report",
            **kafka_config,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        reader.assign([TopicPartition(topic, p, start) for p, (start, _end) in ranges.items()])
        position = {p: start for p, (start, _end) in ranges.items()}
        deadline = time.monotonic() + timeout
        while any(position[p] < end for p, (_s, end) in ranges.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout:.0f}s reading the dead letters of {topic} {ranges}")
            for message in reader.consume(num_messages=1000, timeout=1.0):
                if message.error() is not None:
                    continue
                p, offset = message.partition(), message.offset()
                position[p] = max(position[p], offset + 1)
                start, end = ranges.get(p, (0, 0))
                if not start <= offset < end:
                    continue
                try:
                    letter = json.loads(message.value() or b"{}")
                    if rejected_by and letter.get("rejected_by") != rejected_by:
                        continue
                    reason = str(letter.get("reason") or "unknown")
                except (ValueError, AttributeError):
                    reason = "unreadable dead letter"
                code = reason.split(":", 1)[0].strip() or "unknown"
                counts[code] = counts.get(code, 0) + 1
    finally:
        reader.close()
    return counts
