"""Shared test set-up: Airflow in embedded mode (its home under the state dir, no examples)."""

from __future__ import annotations

import os
from pathlib import Path

import isolation
import pytest

# First of all: the tests' own stack (state dir and ports), never the user's (tests/isolation.py).
_USER_ENVIRON = isolation.user_environ()
isolation.apply()

from streamstack.airflow_env import airflow_environment, private_airflow_home  # noqa: E402 - after the stack's variables
from streamstack.settings import Settings  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parents[1]

# The services (Kafka, Pinot, Flink, Superset, Airflow, the SASL broker) and topics: one
# definition, so each is started at most once per session whatever tiers run.
pytest_plugins = ["support.services"]

# Before anything imports airflow: its settings are read once at import time. A value the
# user set wins; one an xdist controller set for its own shard does not. The home is made
# private first: Airflow's import may create airflow.cfg (Fernet key, JWT secret) and the DB here.
private_airflow_home(Settings.from_env())
for _key, _value in airflow_environment(Settings.from_env()).items():
    if _key not in _USER_ENVIRON:
        os.environ[_key] = _value


# ------------------------------------------------- two shards side by side (make test: -n 2)
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist (``make test``: ``-n 2``), one shard per group of tiers, each run by one
    worker in collection order (xdist's own ``loadgroup`` marks are lost on pytest 9: the
    worker renames ``item._nodeid``, which no longer changes ``item.nodeid``)."""
    from xdist.scheduler import LoadScopeScheduling

    class TwoShards(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return isolation.shard_of(nodeid)

    return TwoShards(config, log)


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


# ------------------------------------------------------------ the user's stack is left as it was
_USER_STACK: dict[str, object] = {}


def _worker(session) -> bool:
    """An xdist worker: the controller checks the user's stack once for the whole run."""
    return hasattr(session.config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session) -> None:
    """Note the user's running stack (if any) before any test runs."""
    if _worker(session):
        return
    before = isolation.user_stack_snapshot(_USER_ENVIRON)
    if before is not None:
        _USER_STACK["before"] = before


def pytest_sessionfinish(session, exitstatus) -> None:
    """Fail the run if a test changed the user's stack: its topics' ends, checkpoints, savepoints, Pinot rows."""
    before = _USER_STACK.get("before")
    if before is None:
        return
    after = isolation.user_stack_snapshot(_USER_ENVIRON)
    if after != before:
        changed = sorted(t for t in {**before["end_offsets"], **(after or {}).get("end_offsets", {})}
                         if before["end_offsets"].get(t) != (after or {}).get("end_offsets", {}).get(t))
        rows = {t: (n, (after or {}).get("pinot_rows", {}).get(t)) for t, n in before["pinot_rows"].items()
                if (after or {}).get("pinot_rows", {}).get(t) != n}
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"the tests changed the user's stack at {before['state_dir']}: topics {changed[:10]}, "
            f"files {'changed' if after and after['files'] != before['files'] else 'as they were'}, "
            f"Pinot rows (before, after) {rows}", red=True)
        session.exitstatus = 1
