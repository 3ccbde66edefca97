"""``config/live.yaml``: the live pipeline's jobs, check interval and health bounds, checked on load."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamstack.config_files import load_yaml_text
from streamstack.engines.choice import JOBS
from streamstack.errors import ConfigError


@dataclass(frozen=True)
class Bounds:
    """What the supervisor fails on."""

    freshness_seconds: float = 60.0
    lag_records: int = 10_000
    dead_letter_rate: float = 0.05
    window_minutes: int = 10
    #: A job restarted twice within this many minutes is in a crash loop.
    crash_loop_minutes: int = 5


@dataclass(frozen=True)
class LiveConfig:
    jobs: tuple[str, ...] = JOBS
    bounds: Bounds = Bounds()
    file: Path | None = None


def _number(raw: dict[str, Any], key: str, default: float, file: Path, where: str, *, integer: bool = False,
            at_most: float | None = None) -> Any:
    value = raw.get(key, default)
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or value <= 0 or (at_most is not None and value > at_most):
        limit = f" and at most {at_most}" if at_most is not None else ""
        raise ConfigError(f"{value!r} is not a positive {'integer' if integer else 'number'}{limit}",
                          file=file, key=f"{where}{key}")
    return value


def load_live_config(path: Path) -> LiveConfig:
    """Read and check ``path``; an unknown key, a wrong type or an unknown job names the file and key."""
    raw = load_yaml_text(path.read_text(), path) or {}
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping", file=path)
    unknown = sorted(set(raw) - {"jobs", "bounds"})
    if unknown:
        raise ConfigError("unknown key (known: jobs, bounds)", file=path, key=unknown[0])
    jobs = raw.get("jobs", list(JOBS))
    if not isinstance(jobs, list) or not jobs or any(j not in JOBS for j in jobs):
        raise ConfigError(f"{jobs!r}: a list of jobs among {', '.join(JOBS)}", file=path, key="jobs")
    bounds = raw.get("bounds") or {}
    if not isinstance(bounds, dict):
        raise ConfigError("expected a mapping", file=path, key="bounds")
    known = set(Bounds.__dataclass_fields__)
    unknown = sorted(set(bounds) - known)
    if unknown:
        raise ConfigError(f"unknown key (known: {', '.join(sorted(known))})", file=path, key=f"bounds.{unknown[0]}")
    d = Bounds()
    return LiveConfig(
        jobs=tuple(jobs),
        bounds=Bounds(
            freshness_seconds=_number(bounds, "freshness_seconds", d.freshness_seconds, path, "bounds."),
            lag_records=_number(bounds, "lag_records", d.lag_records, path, "bounds.", integer=True),
            dead_letter_rate=_number(bounds, "dead_letter_rate", d.dead_letter_rate, path, "bounds.", at_most=1),
            window_minutes=_number(bounds, "window_minutes", d.window_minutes, path, "bounds.", integer=True),
            crash_loop_minutes=_number(bounds, "crash_loop_minutes", d.crash_loop_minutes, path, "bounds.",
                                       integer=True),
        ),
        file=path,
    )
