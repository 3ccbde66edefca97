"""The outcome of one quality check, small enough for an XCom and readable in a task log."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: ``empty`` is neither a pass nor a failure: there was nothing to check.
STATUSES = ("passed", "passed_with_warnings", "failed", "empty")


@dataclass(frozen=True)
class FailedExpectation:
    """One expectation that did not hold.

    :param name: stable name, ``<type>(<columns>)`` or the suite's ``meta.name``.
    :param sample_values: a few offending values as GX reported them.
    :param observed_value: for table/column-level expectations (e.g. the dtype seen).
    :param exception: GX's message when the expectation could not be evaluated (e.g. missing column).
    """

    name: str
    type: str
    severity: str
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    sample_values: list[Any] = field(default_factory=list)
    observed_value: Any = None
    exception: str | None = None
    #: Why it matters, when the expectation's numbers need context (e.g. what the profile expected).
    detail: str | None = None

    def line(self) -> str:
        parts = [f"[{self.severity}] {self.name}"]
        if self.unexpected_count is not None:
            parts.append(f"{self.unexpected_count} rows ({self.unexpected_percent or 0:.3g}%)")
        if self.sample_values:
            parts.append(f"e.g. {self.sample_values[:5]}")
        if self.observed_value is not None:
            parts.append(f"observed {self.observed_value!r}")
        if self.exception:
            parts.append(f"error: {self.exception}")
        if self.detail:
            parts.append(f"({self.detail})")
        return " ".join(parts)


@dataclass(frozen=True)
class QualitySummary:
    """What a check found; ``to_dict()`` is JSON-safe (the XCom and ``summary.json``)."""

    run_id: str
    status: str
    source: str
    rows_checked: int
    expectations_evaluated: int
    failed: list[FailedExpectation] = field(default_factory=list)
    rejected_records: int = 0
    sample_bad_rows: list[dict[str, Any]] = field(default_factory=list)
    window: list[str] | None = None
    results_dir: str | None = None
    result_json: str | None = None
    data_docs: str | None = None
    validation_seconds: float | None = None
    total_seconds: float | None = None
    checked_at: str | None = None

    @property
    def critical_failures(self) -> list[FailedExpectation]:
        return [f for f in self.failed if f.severity == "critical"]

    @property
    def warnings(self) -> list[FailedExpectation]:
        return [f for f in self.failed if f.severity == "warning"]

    @property
    def failed_names(self) -> list[str]:
        return [f.name for f in self.failed]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["failed_by_severity"] = {"critical": len(self.critical_failures), "warning": len(self.warnings)}
        return data

    def lines(self, max_rows: int = 10) -> list[str]:
        """A report for logs and the terminal: counts, each failure, sample rows, where the docs are."""
        head = f"quality {self.status.upper()}: {self.source}"
        out = [
            head,
            f"  rows checked: {self.rows_checked}, expectations: {self.expectations_evaluated}, "
            f"failed: {len(self.critical_failures)} critical, {len(self.warnings)} warning",
        ]
        if self.status == "empty":
            out.append("  nothing to check in this window (no rows): not a pass, not a failure")
        if self.rejected_records:
            out.append(f"  records that are not JSON objects: {self.rejected_records}")
        out += [f"  {f.line()}" for f in self.failed]
        for row in self.sample_bad_rows[:max_rows]:
            out.append(f"  bad row {row.get('at')}: fails {row.get('failed')} -> {row.get('row')}")
        if self.result_json:
            out.append(f"  result JSON: {self.result_json}")
        if self.data_docs:
            out.append(f"  Data Docs: {self.data_docs}")
        return out
