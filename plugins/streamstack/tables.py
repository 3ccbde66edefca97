"""Rows as a small aligned text table, numbers rounded: what a task log shows for a query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def tidy(value: Any, digits: int = 2) -> Any:
    """Round floats (361.92999999999995 -> 361.93); whole floats stay floats, other values as given."""
    if isinstance(value, float):
        return round(value, digits)
    return value


def _cell(value: Any, digits: int) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def format_table(rows: Sequence[Mapping[str, Any]], digits: int = 2, max_width: int = 40) -> list[str]:
    """Header, rule and one line per row; numbers right-aligned. ``["(no rows)"]`` when empty."""
    if not rows:
        return ["(no rows)"]
    columns = list(rows[0].keys())
    cells = [[_cell(row.get(c), digits)[:max_width] for c in columns] for row in rows]
    numeric = [all(isinstance(row.get(c), int | float) and not isinstance(row.get(c), bool) for row in rows) for c in columns]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    return [line(columns), line(["-" * w for w in widths]), *(line(r) for r in cells)]
