"""Data quality of enriched purchases with Great Expectations Core 1.x (no Airflow here).

``QualityRunner(settings).check(batch)`` validates a ``Batch`` read by ``read_jsonl``,
``read_kafka_window`` / ``read_kafka_range`` or ``read_pinot_window`` and returns a
``QualitySummary``. GX itself is imported only when a suite is loaded (it takes seconds), so
importing this package stays cheap for the CLI and DAG parsing.
"""

from streamstack.quality.readers import (
    Batch,
    OffsetRange,
    Rejected,
    SourceError,
    read_jsonl,
    read_kafka_range,
    read_kafka_window,
    read_pinot_window,
)
from streamstack.quality.runner import CheckOptions, QualityRunner, new_run_id
from streamstack.quality.summary import FailedExpectation, QualitySummary
from streamstack.quality.window import parse_duration, window_ending

__all__ = [
    "Batch",
    "CheckOptions",
    "FailedExpectation",
    "OffsetRange",
    "QualityRunner",
    "QualitySummary",
    "Rejected",
    "SourceError",
    "new_run_id",
    "parse_duration",
    "read_jsonl",
    "read_kafka_range",
    "read_kafka_window",
    "read_pinot_window",
    "window_ending",
]
