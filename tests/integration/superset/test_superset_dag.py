"""`airflow dags test superset_dashboards` against the real Superset and Pinot, twice: the second changes nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from streamstack.pinot import PinotClient
from streamstack.superset.client import SupersetClient

pytestmark = [pytest.mark.integration, pytest.mark.slow]
STREAMSTACK = str(Path(sys.executable).parent / "streamstack")


def run_dag() -> str:
    proc = subprocess.run([STREAMSTACK, "airflow", "dags", "test", "superset_dashboards"],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "state=success" in out, out[-4000:]
    return out


def _ids(superset: SupersetClient) -> dict[str, list[int]]:
    """Every object of every kind in Superset (ours or not), by id: a duplicate under another uuid shows."""
    return {kind: sorted(o["id"] for o in objects) for kind, objects in superset.objects().items()}


def test_dag_publishes_and_reruns_change_nothing(pinot: PinotClient, superset: SupersetClient) -> None:
    first = run_dag()
    count = re.search(r"objects of ours in Superset: (\{[^}]*\})", first).group(1)  # type: ignore[union-attr]
    assert count == "{'databases': 1, 'datasets': 4, 'charts': 16, 'dashboards': 3}", count
    before = _ids(superset)
    again = run_dag()
    assert "database connection: unchanged" in again
    assert re.search(r"objects of ours in Superset: (\{[^}]*\})", again).group(1) == count  # type: ignore[union-attr]
    assert _ids(superset) == before  # nothing created, nothing replaced, under any uuid
    titles = [d["dashboard_title"] for d in superset.dashboards()]
    ours = ["Drink Purchases Dashboard", "Smoothie Cafe Daily Sales", "Pipeline Health"]
    assert all(titles.count(title) == 1 for title in ours), titles
