"""The e2e tier's ways into the running platform: the CLI as a user runs it, Pinot counts, DAG runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from streamstack.airflow_client import AirflowClient
from streamstack.settings import Settings

STREAMSTACK = str(Path(sys.executable).parent / "streamstack")


def streamstack(*args: str, env: dict[str, str] | None = None, timeout: float = 1500) -> str:
    """Run the CLI as a user would (on the tests' stack: the session's environment); its output."""
    proc = subprocess.run([STREAMSTACK, *args], env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"streamstack {' '.join(args)} exited {proc.returncode}:\n{out[-4000:]}"
    return out


def pinot_count(table: str, where: str | None = None) -> int:
    """Rows in a Pinot table (those matching ``where``, SQL); 0 before the pipeline has created it."""
    from streamstack.pinot.client import PinotClient
    from streamstack.pinot.endpoints import PinotEndpoints, pinot_credentials

    endpoints = PinotEndpoints.from_env(Settings.from_env())
    client = PinotClient(endpoints.controller_url, endpoints.broker_url, auth=pinot_credentials(Settings.from_env()))
    if client.get_table(table) is None:
        return 0
    if where:
        (row,) = client.query(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}")
        return int(row["n"])
    return client.count(table)


def run_dag(client: AirflowClient, dag_id: str, conf: dict[str, Any] | None = None, timeout: float = 1200) -> str:
    client.wait_for_dag(dag_id)
    client.set_paused(dag_id, False)
    run_id = client.trigger(dag_id, conf)
    run = client.wait_for_run(dag_id, run_id, timeout=timeout)
    assert run["state"] == "success", client.failure_report(dag_id, run_id)
    return run_id
