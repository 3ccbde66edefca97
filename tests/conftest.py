"""Shared test set-up: Airflow in embedded mode (its home under the state dir, no examples)."""

from __future__ import annotations

import os
from pathlib import Path

from streamstack.airflow_env import airflow_environment
from streamstack.settings import Settings

PROJECT_DIR = Path(__file__).resolve().parents[1]

# Before anything imports airflow: its settings are read once at import time.
for _key, _value in airflow_environment(Settings.from_env()).items():
    os.environ.setdefault(_key, _value)


# ------------------------------------------------------------------ per-tier durations (CI budget)
_TIER_SECONDS: dict[str, float] = {}


def pytest_runtest_logreport(report) -> None:
    """Add each phase's time (set-up with its service starts, call, teardown) to the test's tier."""
    parts = report.nodeid.split("/")
    tier = parts[1] if len(parts) > 2 and parts[0] == "tests" else parts[0].split("::")[0]
    _TIER_SECONDS[tier] = _TIER_SECONDS.get(tier, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter) -> None:
    """Where the run's time went, tier by tier: the 30-minute CI budget is spent per tier."""
    if _TIER_SECONDS:
        terminalreporter.write_sep("-", "time per tier")
        for tier, seconds in sorted(_TIER_SECONDS.items(), key=lambda kv: -kv[1]):
            terminalreporter.write_line(f"{tier:<14} {seconds:8.1f} s")
