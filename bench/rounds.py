"""What every benchmark here shares: alternating rounds, best of N with the spread, ratios, RESULTS.md.

The house rule (GUIDE.md): performance is a ratio against a reference run on the same machine in
the same run, in alternating rounds (A B, B A, A B, ...: neither side always runs on a warmer or
a more loaded box), best of at least three, with the spread shown. The machine is shared, so
each result also records the load average it was measured under.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def alternate(rounds: int, contenders: Mapping[str, Callable[[int], dict[str, Any]]],
              log: Callable[[str], None] = print) -> dict[str, list[dict[str, Any]]]:
    """Run each contender once per round, the order rotating every round; results per contender."""
    names = list(contenders)
    out: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            result = contenders[name](r)
            result.setdefault("load", load())
            out[name].append(result)
            log(f"round {r} {name}: {result}")
    return out


def best(results: list[dict[str, Any]], key: str) -> float:
    """The best (smallest) time of the rounds."""
    return min(float(r[key]) for r in results)


def spread(results: list[dict[str, Any]], key: str, unit: str = "s") -> str:
    """``best-worst unit (+x% worst over best)`` of the rounds."""
    xs = [float(r[key]) for r in results]
    if not xs:
        return "-"
    lo, hi = min(xs), max(xs)
    pct = f" (+{(hi / lo - 1) * 100:.0f}%)" if lo > 0 else ""
    return f"{lo:.1f}-{hi:.1f} {unit}{pct}"


def ratio(reference: list[dict[str, Any]], measured: list[dict[str, Any]], key: str) -> float:
    """How many times faster ``measured`` is than ``reference`` (best times): > 1 is faster."""
    return best(reference, key) / best(measured, key)


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of already sorted values, nearest rank below."""
    if not sorted_values:
        raise ValueError("no values")
    return sorted_values[int(q * (len(sorted_values) - 1))]


def latency_summary(values: list[float]) -> dict[str, float]:
    xs = sorted(values)
    return {"p50_ms": percentile(xs, 0.5), "p95_ms": percentile(xs, 0.95), "max_ms": xs[-1], "n": len(xs)}


def load() -> str:
    """The 1/5/15-minute load average: how shared the box was while measuring."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "?"
    return f"{one:.1f}/{five:.1f}/{fifteen:.1f}"


def machine() -> str:
    return (f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({platform.machine()}), "
            f"{platform.system()} {platform.release()}")


def write_section(name: str, title: str, text: str, results: Path = RESULTS) -> None:
    """Replace the ``name`` section of bench/RESULTS.md (between its markers); keep the rest."""
    current = results.read_text() if results.exists() else "# Benchmark results\n"
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    section = f"{begin}\n### {title}\n{text.strip()}\n{end}"
    if begin in current and end in current:
        before, _, rest = current.partition(begin)
        current = before + section + rest.partition(end)[2]
    else:
        current = current.rstrip() + "\n\n" + section + "\n"
    results.write_text(current)
