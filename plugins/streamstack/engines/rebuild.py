"""All-time outputs never silently shrink: a rebuild from inputs that lost records is refused.

The running totals are all-time values, upserted per product. Rebuilt from the start of the
purchases topic (a reset, a fresh submission, Flink's bounded totals, which recompute from the
start on every run), they are only as complete as the topic's retention (7 days): the rebuilt,
smaller values would overwrite the all-time ones. Whether records are gone is exact: a
partition whose first offset is above 0 lost the records below it. Such a rebuild is refused
with what would be lost, unless the caller accepts it (``allow_shrink``: the CLI's
``--allow-shrink``, the DAG's ``allow_shrink`` param).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streamstack.errors import StreamstackError
from streamstack.topics.offsets import watermarks

#: Job -> (the logical input it aggregates from its start, the logical output holding all-time values).
ALL_TIME = {"running_totals": ("purchases", "running_totals")}


class WouldShrink(StreamstackError):
    """A rebuild would replace all-time values with what the input topic still holds."""


def check_rebuild(kafka_config: Mapping[str, Any], topic_names: Mapping[str, str], job: str, *,
                  allow_shrink: bool = False) -> None:
    """Refuse to rebuild ``job``'s all-time output from an input that retention already trimmed."""
    if job not in ALL_TIME or allow_shrink:
        return
    source, output = (topic_names[logical] for logical in ALL_TIME[job])
    lost = {p: low for p, (low, _) in sorted(watermarks(kafka_config, source).items()) if low > 0}
    if lost:
        first = ", ".join(f"partition {p} from offset {low}" for p, low in lost.items())
        raise WouldShrink(
            f"{job}: rebuilding from the start of {source} would shrink the all-time totals on {output}: "
            f"{sum(lost.values()):,} records are gone from {source} (retention; it now starts at {first}), so the "
            "rebuilt totals would count only what it still holds. Keep the job's state (resume), or rebuild "
            "anyway and accept the smaller totals (--allow-shrink, DAG param allow_shrink)"
        )
