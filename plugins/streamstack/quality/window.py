"""Time windows for checks: ``--last 1h`` on the CLI, the data interval in Airflow."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from streamstack.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """``"90m"``, ``"1h"``, ``"2d"``, ``"30s"`` -> timedelta; raises ``ConfigError`` otherwise."""
    match = _DURATION.match(str(text))
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"window {text!r} is not a positive duration like 30m, 1h or 2d")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC (the events' time zone)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def window_ending(end: datetime | None, length: timedelta) -> tuple[datetime, datetime]:
    """``[end - length, end)`` in UTC; ``end`` defaults to now."""
    end = as_utc(end) if end is not None else datetime.now(UTC)
    return end - length, end
