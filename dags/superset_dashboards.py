"""Superset dashboards as code: the Pinot connection and the bundle of config/superset, imported."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param, dag

from streamstack.providers.assets import PINOT_TABLES
from streamstack.providers.superset.operators import PublishDashboardsOperator

DOC = """
### Superset dashboards

`publish_dashboards` makes Superset show what Pinot holds, from files in the repo:

1. tests the Pinot connection from Superset and creates or updates the database `Pinot`
   (URI from the `pinot_broker_default` / `pinot_controller_default` connections);
2. builds Superset's v1 import bundle from `config/superset/dashboards.yaml` (datasets take
   their columns from `config/pinot/schemas/`) and imports it with
   `POST /api/v1/assets/import/` (overwrite by uuid);
3. checks each dashboard exists with its charts and returns their URLs.

Dashboards: *Drink Purchases Dashboard*, *Smoothie Cafe Daily Sales*, *Pipeline Health*.
Edit the YAML, re-run this DAG (or `streamstack superset import`). Re-runs change nothing;
a bundle Superset rejects fails the task with Superset's message. Superset login comes from
the `superset_default` connection (host, port, login, password). Runs when the `pinot_tables` asset is updated, or by hand.

**Schedule**: Asset-triggered. Unpaused, it re-imports the dashboards every time the `pinot_tables`
asset is updated (each `pinot_ingestion` run); re-imports change nothing.

**Params**: `test_connection` — check the Pinot connection from Superset before importing.
"""


@dag(
    dag_id="superset_dashboards",
    description="Import the Superset dashboards of config/superset onto the Pinot tables.",
    schedule=[PINOT_TABLES],
    tags=["streamstack", "superset", "dashboards"],
    doc_md=DOC,
    default_args={"owner": "streamstack", "retries": 2, "retry_delay": timedelta(seconds=20)},
    params={
        "test_connection": Param(
            True,
            type="boolean",
            title="Test the Pinot connection first",
            description="Superset connects to Pinot before anything is imported (fails with its message).",
        ),
    },
    max_active_runs=1,
)
def superset_dashboards() -> None:
    PublishDashboardsOperator(task_id="publish_dashboards", test_connection="{{ params.test_connection }}")


superset_dashboards()
