"""Times in job statuses: ISO 8601 UTC, as every engine reports them."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(epoch_seconds: float | None) -> str | None:
    return None if epoch_seconds is None else datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="seconds")
