"""Read a Structured Streaming checkpoint: which source offsets the last committed batch reached.

The checkpoint is the job's own record of progress, so health and lag can be reported even when
the job is not running (or is stuck), without asking Spark. Layout (Spark 3/4, file sink of the
metadata log): ``offsets/<batch>`` = ``v1``, a metadata JSON line, then one line per source
(``{"topic": {"partition": next_offset}}`` for Kafka); ``commits/<batch>`` exists once the batch
is fully written.
"""

from __future__ import annotations

import json
from pathlib import Path


def _batch_ids(directory: Path) -> list[int]:
    if not directory.is_dir():
        return []
    return sorted(int(p.name) for p in directory.iterdir() if p.name.isdigit())


def last_committed_batch(checkpoint: Path) -> int | None:
    ids = _batch_ids(checkpoint / "commits")
    return ids[-1] if ids else None


def committed_offsets(checkpoint: Path) -> dict[str, dict[int, int]]:
    """``{topic: {partition: next offset to read}}`` after the last committed batch ({} if none)."""
    batch = last_committed_batch(checkpoint)
    if batch is None:
        return {}
    lines = (checkpoint / "offsets" / str(batch)).read_text().splitlines()
    out: dict[str, dict[int, int]] = {}
    for line in lines[2:]:
        line = line.strip()
        if not line or line == "-" or not line.startswith("{"):
            continue
        for topic, parts in json.loads(line).items():
            if isinstance(parts, dict):
                out.setdefault(topic, {}).update({int(p): int(o) for p, o in parts.items()})
    return out


def last_commit_time(checkpoint: Path) -> float | None:
    """When the last batch was committed (its ``commits/<batch>`` file's mtime), or None."""
    batch = last_committed_batch(checkpoint)
    return None if batch is None else (checkpoint / "commits" / str(batch)).stat().st_mtime
