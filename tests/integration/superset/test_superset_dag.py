"""`airflow dags test superset_dashboards` against the real Superset and Pinot, three times in a row."""

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


def test_dag_publishes_and_reruns_change_nothing(pinot: PinotClient, superset: SupersetClient) -> None:
    outputs = [run_dag() for _ in range(3)]
    counts = [re.search(r"objects of ours in Superset: (\{[^}]*\})", out).group(1) for out in outputs]  # type: ignore[union-attr]
    assert counts[0] == "{'databases': 1, 'datasets': 4, 'charts': 16, 'dashboards': 3}", counts[0]
    assert counts[1:] == counts[:1] * 2
    assert all("database connection: unchanged" in out for out in outputs[1:])
    titles = {d["dashboard_title"] for d in superset.dashboards()}
    assert {"Drink Purchases Dashboard", "Smoothie Cafe Daily Sales", "Pipeline Health"} <= titles
