"""What one run of a Spark job did, in numbers, derived from outside the job.

The job's own record of progress is its checkpoint (source offsets of the last committed
batch) and its progress file (Spark's ``lastProgress``, i.e. the last micro-batch only). A run
may take several micro-batches, so the counts here come from differences taken before and after
the run: records read = committed source offsets after - before, per partition; records written
= end offsets of the output topic after - before; dead letters are read back from exactly that
offset range of the dead-letter topic, those of this job (``rejected_by``: the enrichment and the
windows write that topic side by side) counted by reason code (the text before the first ``:``,
as the contract writes them). The output count assumes this job is the only writer of its output
topic while it runs, which the checkpoint lock guarantees for the job itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from streamstack.engines.report import count_reasons
from streamstack.spark.checkpoint import committed_offsets, last_committed_batch
from streamstack.spark.control import SparkJobControl
from streamstack.spark.jobs import job_spec
from streamstack.spark.lock import job_paths
from streamstack.topics.offsets import end_offsets

#: The job arguments naming topics it writes; every other ``*-topic`` argument is an input.
OUTPUT_FLAGS = ("output-topic", "invalid-topic")


@dataclass
class Snapshot:
    """A job's committed source offsets and its output topics' end offsets at one moment."""

    batch: int | None
    committed: dict[str, dict[int, int]]
    outputs: dict[str, dict[int, int]]


@dataclass
class JobReport:
    """The numbers of one run: read, written, dead letters by reason, offsets covered."""

    job: str
    read: int = 0
    written: int = 0
    dead_letters: int = 0
    dead_letters_by_reason: dict[str, int] = field(default_factory=dict)
    offsets: dict[str, str] = field(default_factory=dict)
    batches: int = 0
    last_batch: dict[str, Any] = field(default_factory=dict)
    output_topic: str | None = None
    invalid_topic: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "read": self.read,
            "written": self.written,
            "dead_letters": self.dead_letters,
            "dead_letters_by_reason": self.dead_letters_by_reason,
            "offsets": self.offsets,
            "micro_batches": self.batches,
            "output_topic": self.output_topic,
            "invalid_topic": self.invalid_topic,
            "last_batch": self.last_batch,
        }

    def lines(self) -> list[str]:
        """The outcome as log lines, most important first."""
        out = [
            f"{self.job}: read {self.read:,} records, wrote {self.written:,} to {self.output_topic}"
            + (f", dead-lettered {self.dead_letters:,} to {self.invalid_topic}" if self.invalid_topic else "")
            + f" ({self.batches} micro-batch{'es' if self.batches != 1 else ''})"
        ]
        for reason, count in sorted(self.dead_letters_by_reason.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"  dead letters {reason:<28} {count:>8,}")
        for where, covered in sorted(self.offsets.items()):
            out.append(f"  offsets {where:<32} {covered}")
        if not self.offsets:
            out.append("  offsets: nothing new on the input topics since the last run")
        return out


def _topics(control: SparkJobControl, job: str) -> tuple[dict[str, str], dict[str, str]]:
    """(inputs, outputs): flag -> physical topic name."""
    spec = job_spec(job)
    names = {flag: control.topics[logical].name for flag, logical in spec.topics.items()}
    outputs = {flag: name for flag, name in names.items() if flag in OUTPUT_FLAGS}
    inputs = {flag: name for flag, name in names.items() if flag not in OUTPUT_FLAGS}
    return inputs, outputs


def snapshot(control: SparkJobControl, job: str) -> Snapshot:
    checkpoint = job_paths(control.checkpoint_dir, job)["checkpoint"]
    _inputs, outputs = _topics(control, job)
    return Snapshot(
        batch=last_committed_batch(checkpoint),
        committed=committed_offsets(checkpoint),
        outputs={name: end_offsets(control.kafka_config, name) for name in outputs.values()},
    )


def backlog(control: SparkJobControl, job: str, before: Snapshot) -> int:
    """Input records past the checkpoint of ``before``: what an available-now run will read."""
    inputs, _ = _topics(control, job)
    total = 0
    for name in inputs.values():
        done = before.committed.get(name, {})
        total += sum(max(0, end - done.get(p, 0)) for p, end in end_offsets(control.kafka_config, name).items())
    return total


def _delta(before: dict[int, int], after: dict[int, int]) -> dict[int, tuple[int, int]]:
    return {p: (before.get(p, 0), end) for p, end in after.items() if end > before.get(p, 0)}


def job_report(control: SparkJobControl, job: str, before: Snapshot, after: Snapshot) -> JobReport:
    inputs, outputs = _topics(control, job)
    report = JobReport(job=job, output_topic=outputs.get("output-topic"), invalid_topic=outputs.get("invalid-topic"))
    for topic in inputs.values():
        covered = _delta(before.committed.get(topic, {}), after.committed.get(topic, {}))
        for p, (start, end) in sorted(covered.items()):
            report.offsets[f"{topic}/{p}"] = f"[{start}, {end})  {end - start:,} records"
            if topic == inputs.get("purchases-topic"):
                report.read += end - start
    if report.output_topic:
        written = _delta(before.outputs.get(report.output_topic, {}), after.outputs.get(report.output_topic, {}))
        report.written = sum(end - start for start, end in written.values())
    if report.invalid_topic:
        dead = _delta(before.outputs.get(report.invalid_topic, {}), after.outputs.get(report.invalid_topic, {}))
        report.dead_letters_by_reason = count_reasons(control.kafka_config, report.invalid_topic, dead,
                                                      rejected_by=f"spark.{job}")
        report.dead_letters = sum(report.dead_letters_by_reason.values())
    if after.batch is not None:
        report.batches = after.batch - (before.batch if before.batch is not None else -1)
    progress_file = job_paths(control.checkpoint_dir, job)["progress"]
    if progress_file.exists():
        last = json.loads(progress_file.read_text()).get("last_progress") or {}
        report.last_batch = {
            k: last.get(k) for k in ("batchId", "numInputRows", "inputRowsPerSecond", "processedRowsPerSecond")
        }
        report.last_batch["durationMs"] = (last.get("durationMs") or {}).get("triggerExecution")
    return report
