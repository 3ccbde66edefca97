"""Third-party loggers at the levels of ``[logging] namespace_levels``, in the task process.

Airflow 3.3 applies ``namespace_levels`` to its structlog loggers only: a standard-library logger
such as ``great_expectations`` still logs INFO into the task log (~200 "Skipping registering
function" lines per quality check, seen in the UI). Tasks that import such a library call
:func:`apply_namespace_levels` first, so the configured levels hold for them too.
"""

from __future__ import annotations

import logging
import re

_PAIR = re.compile(r"[\s,]+")


def parse_namespace_levels(value: str | None) -> dict[str, int]:
    """``"a=WARNING b.c=ERROR"`` (whitespace or commas) -> ``{"a": 30, "b.c": 40}``; bad pairs are an error."""
    levels: dict[str, int] = {}
    for entry in _PAIR.split((value or "").strip()):
        if not entry:
            continue
        name, sep, level = entry.partition("=")
        number = logging.getLevelName(level.strip().upper()) if sep else None
        if not name or not isinstance(number, int):
            raise ValueError(f"[logging] namespace_levels: {entry!r} is not <logger>=<level>")
        levels[name.strip()] = number
    return levels


def apply_namespace_levels(value: str | None = None) -> dict[str, int]:
    """Set each named standard-library logger to its configured level; returns what was applied.

    :param value: the setting; default: Airflow's ``[logging] namespace_levels``.
    """
    if value is None:
        from airflow.sdk.configuration import conf

        value = conf.get("logging", "namespace_levels", fallback="")
    levels = parse_namespace_levels(value)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    return levels
