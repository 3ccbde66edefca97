"""Run everything once: topics, a batch of sales, Spark, Pinot, the quality gate, a summary."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from streamstack.providers.assets import PURCHASES, PURCHASES_ENRICHED
from streamstack.providers.kafka.operators import ApplyTopicsOperator
from streamstack.providers.pinot.operators import ApplyPinotTablesOperator, PinotNamedQueryOperator
from streamstack.providers.pinot.sensors import PinotIngestionSensor
from streamstack.providers.spark.operators import SparkStreamingJobOperator
from streamstack.providers.superset.operators import PublishDashboardsOperator

DOC = """
### Streaming platform — the "run everything" button

One run of the whole pipeline, in order, with the same operators the single-purpose DAGs use:

1. `apply_topics` — `config/topics.yaml` onto the cluster (idempotent);
2. `generate_sales` — the catalogue and a batch of sales (params below) → `demo.purchases`;
3. `purchases_enrichment` → `running_totals` → `sales_windows` — the Spark jobs in
   available-now mode (each resumes from its checkpoint, so nothing is processed twice);
4. `apply_pinot_tables` (while Spark works) → `wait_ingested` once every job has written —
   tables as code, then wait until Pinot has consumed every topic to its end offset;
5. `top_products` and `quality_gate` — the demo query, and the Great Expectations gate on the
   enriched purchases of the last hour up to now (fails the run on a critical failure);
6. `summary` — what happened, as one XCom (what `make demo` prints);
7. `publish_dashboards` — the Superset dashboards of `config/superset` on these tables.

Re-running it adds a new batch of sales; the totals stay exact (checkpoints in Spark,
de-duplication on `(transaction_id, line_number)` in Pinot). The single-purpose DAGs
(`sales_generator`, `spark_streaming`, `pinot_ingestion`, `purchases_quality`) do the same
steps on their own schedules and Assets.
"""


@dag(
    dag_id="streaming_platform",
    schedule=None,
    tags=["streamstack", "pipeline"],
    doc_md=DOC,
    default_args={"owner": "streamstack", "retries": 2, "retry_delay": timedelta(seconds=20)},
    params={
        "transactions": Param(500, type="integer", minimum=1, maximum=1_000_000, title="Transactions",
                              description="Sales transactions to generate (each has 1-3 line items)."),
        "mode": Param("load", type="string", enum=["load", "realistic"], title="Generator mode"),
        "seed": Param(None, type=["null", "integer"], title="Seed",
                      description="Same seed, same sales. Empty: a new random batch each run."),
        "speed": Param(20.0, type="number", exclusiveMinimum=0, title="Speed (realistic mode)"),
    },
    max_active_runs=1,
)
def streaming_platform() -> None:
    topics = ApplyTopicsOperator(task_id="apply_topics")

    @task(outlets=[PURCHASES], retries=0)
    def generate_sales(params: dict[str, Any] | None = None) -> dict[str, Any]:
        """No retry: a retry would publish a second batch (new transaction ids) on top of the first."""
        from streamstack.providers.generator.operators import generate_sales as run

        p = params or {}
        return run(transactions=p["transactions"], mode=p["mode"], seed=p["seed"], speed=float(p["speed"]))

    enrichment = SparkStreamingJobOperator(
        task_id="purchases_enrichment", job="purchases_enrichment", outlets=[PURCHASES_ENRICHED]
    )
    totals = SparkStreamingJobOperator(task_id="running_totals", job="running_totals")
    windows = SparkStreamingJobOperator(task_id="sales_windows", job="sales_windows")
    pinot_tables = ApplyPinotTablesOperator(task_id="apply_pinot_tables")
    ingested = PinotIngestionSensor(task_id="wait_ingested", poke_interval=5, timeout=600)
    top = PinotNamedQueryOperator(task_id="top_products", query_name="top-products-enriched", limit=10)

    @task(task_id="quality_gate")
    def quality_gate(run_id: str | None = None, ti=None) -> dict[str, Any]:
        """The last hour up to now: this run's sales were made after the run was triggered."""
        from datetime import UTC, datetime

        from streamstack.providers.quality.tasks import check_purchases_enriched

        return check_purchases_enriched(
            source="pinot", window_end=datetime.now(UTC), window_minutes=60, run_id=run_id or "manual", ti=ti
        )

    @task(task_id="summary")
    def summary(generated: dict, tables: dict, top_rows: list, quality: dict) -> dict[str, Any]:
        from streamstack.providers.platform import platform_summary

        return platform_summary(generated=generated, tables=tables, top_products=top_rows, quality=quality)

    generated = generate_sales()
    gate = quality_gate()
    topics >> generated >> enrichment >> totals >> windows
    # Tables can be applied while Spark works; ingestion is awaited once every job has written.
    enrichment >> pinot_tables
    [windows, pinot_tables] >> ingested >> [top, gate]
    summary(generated, ingested.output, top.output, gate)
    ingested >> PublishDashboardsOperator(task_id="publish_dashboards")


streaming_platform()
