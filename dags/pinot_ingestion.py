"""Pinot ingestion: apply the tables as code, wait until they have consumed their topics."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, dag, task

from streamstack.providers.assets import PINOT_TABLES, PURCHASES_ENRICHED
from streamstack.providers.defaults import DEFAULT_ARGS
from streamstack.providers.pinot.operators import ApplyPinotTablesOperator, PinotNamedQueryOperator
from streamstack.providers.pinot.sensors import PinotIngestionSensor

DOC = """
### Pinot ingestion

1. `apply_tables` creates or updates the schemas and REALTIME tables of `config/pinot`
   through the controller's REST API (`pinot_controller_default`). Re-runs change nothing; a
   config Pinot rejects fails the task **with Pinot's message**.
2. `wait_ingested` waits (poke every 5 s, at most 10 min) until every table's consuming
   segments have reached the end offsets of its Kafka topic, logging rows, offset lag and
   freshness on each poke.
3. `record_freshness` logs and returns now − newest event time per table.
4. `top_products` runs the demo's `top-products-enriched` query through the Pinot provider.

**Schedule**: Asset-triggered. Unpaused, it runs every time the `streamstack.topics.purchases_enriched`
asset is updated (each enrichment run, any engine); it can also be triggered by hand.

**Params**

- `dry_run` (default off) — only log what `apply_tables` would change.
"""


@dag(
    dag_id="pinot_ingestion",
    description="Pinot: apply the tables as code, wait until they have consumed Kafka, run the top-products query.",
    schedule=[PURCHASES_ENRICHED],
    tags=["streamstack", "pinot", "ingestion"],
    doc_md=DOC,
    default_args=DEFAULT_ARGS,
    params={
        "dry_run": Param(False, type="boolean", title="Dry run", description="Only show what would change."),
    },
    max_active_runs=1,
)
def pinot_ingestion() -> None:
    apply = ApplyPinotTablesOperator(task_id="apply_tables", dry_run="{{ params.dry_run }}")
    wait = PinotIngestionSensor(task_id="wait_ingested", poke_interval=5, timeout=600)

    @task(outlets=[PINOT_TABLES])
    def record_freshness(states: dict[str, Any]) -> dict[str, float | None]:
        """Freshness per table (seconds); the sensor measured it when the tables caught up."""
        freshness = {table: state["freshness_s"] for table, state in states.items()}
        for table, seconds in freshness.items():
            print(f"{table}: rows={states[table]['rows']} freshness={seconds}")
        return freshness

    top = PinotNamedQueryOperator(task_id="top_products", query_name="top-products-enriched", limit=10)
    apply >> wait
    record_freshness(wait.output) >> top


pinot_ingestion()
