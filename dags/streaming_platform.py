"""Run everything once: topics, a batch of sales, a stream engine, Pinot, the quality gate, a summary."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, dag, task

from streamstack.providers.assets import PURCHASES_ENRICHED
from streamstack.providers.defaults import DEFAULT_ARGS
from streamstack.providers.engines.operators import StreamJobOperator
from streamstack.providers.engines.sensors import StreamJobSensor
from streamstack.providers.generator.operators import SalesGeneratorOperator
from streamstack.providers.kafka.operators import ApplyTopicsOperator
from streamstack.providers.pinot.operators import ApplyPinotTablesOperator, PinotNamedQueryOperator
from streamstack.providers.pinot.sensors import PinotIngestionSensor
from streamstack.providers.superset.operators import PublishDashboardsOperator

DOC = """
### Streaming platform — START HERE: the "run everything" button

New to streamstack? Trigger this DAG (it is what `make demo` runs), then follow the run in the
Grid: every task's log starts with what it will do and ends with what it did, in numbers, and
the `quality_gate` task has a **Data Docs** button. Nothing is scheduled: unpausing it starts
nothing; each trigger is one run.

One run of the whole pipeline, in order, with the same operators the single-purpose DAGs use:

1. `apply_topics` — `config/topics.yaml` onto the cluster (idempotent);
2. `generate_sales` — the catalogue and a batch of sales (see **Params**) → `demo.purchases`;
3. `stream_jobs` → `stream_jobs_done` — the three jobs (enrichment, running totals, sliding
   windows) on the chosen engine (Spark, Flink or Kafka Streams), bounded and side by side, each
   from where it last committed (so nothing is processed twice); the wait happens in the
   triggerer, holding no worker slot;
4. `apply_pinot_tables` (while the engine works) → `wait_ingested` once every job has written —
   tables as code, then wait until Pinot has consumed every topic to its end offset;
5. `top_products`, `quality_gate` and `batch_accounted` — the demo query, the Great
   Expectations gate on the enriched purchases of the last hour up to now (fails the run on a
   critical failure), and the check that every purchase line of this run is in Pinot (fails the
   run when the engine turned them into dead letters: the gate only sees rows that arrived);
6. `summary` — what happened, as one XCom (what `make demo` prints);
7. `publish_dashboards` — the Superset dashboards of `config/superset` on these tables.

Re-running it adds a new batch of sales; the totals stay exact (checkpoints in Spark,
de-duplication on `(transaction_id, line_number)` in Pinot). The single-purpose DAGs
(`sales_generator`, `stream_jobs`, `pinot_ingestion`, `purchases_quality`) do the same
steps on their own schedules and Assets.

**Params** (the defaults are what `make demo` runs)

- `transactions` (default 500, 1 to 1,000,000) — sales transactions to generate; each has 1-3
  line items, so expect roughly twice as many purchases;
- `mode` (default `realistic`) — `realistic` pauses like a shop, `load` goes flat out;
- `seed` (optional) — the same seed gives the same sales; empty gives a new batch;
- `speed` (default 100, above 0, at most 1000) — realistic mode only: divides the 2-5 s pauses;
- `engine` (optional) — `spark`, `flink` or `kstreams` for the stream jobs (default `STREAMSTACK_ENGINE`, spark);
- `days` (optional, 1 to 366) — simulate that many days of the shop instead of a batch;
- `start_date` (optional, YYYY-MM-DD) — first simulated day (default `shop.start_date`);
- `profile` (optional) — volume profile of the simulated days (default `shop.profile`).
"""


@dag(
    dag_id="streaming_platform",
    description="START HERE: the whole pipeline once - topics, sales, stream jobs, Pinot, quality gate, summary.",
    schedule=None,
    is_paused_upon_creation=False,
    tags=["streamstack", "pipeline", "start-here"],
    doc_md=DOC,
    default_args=DEFAULT_ARGS,
    params={
        # The defaults are what `make demo` runs (plugins/streamstack/cli/demo.py).
        "transactions": Param(500, type="integer", minimum=1, maximum=1_000_000, title="Transactions",
                              description="Sales transactions to generate (each has 1-3 line items), 1 to 1,000,000."),
        "mode": Param("realistic", type="string", enum=["realistic", "load"], title="Generator mode",
                      description="realistic: the shop's 2-5 s pauses between sales, divided by speed; "
                                  "load: as fast as the broker accepts."),
        "seed": Param(None, type=["null", "integer"], title="Seed",
                      description="Same seed, same sales. Empty: a new random batch each run."),
        "speed": Param(100.0, type=["null", "number"], exclusiveMinimum=0, maximum=1000, title="Speed (realistic mode)",
                       description="Realistic mode only: divides its pauses (1 = real time, 100 = the demo's). "
                                   "Above 0, at most 1000."),
        "engine": Param(None, type=["null", "string"], enum=[None, "spark", "flink", "kstreams"], title="Engine",
                        description="Stream engine of the enrichment, totals and windows. Empty: STREAMSTACK_ENGINE "
                                    "(default spark)."),
        "days": Param(None, type=["null", "integer"], minimum=1, maximum=366, title="Simulated days",
                      description="Simulate this many days of the shop (see the sales_generator DAG); "
                                  "empty: an unsimulated batch of Transactions."),
        "start_date": Param(None, type=["null", "string"], format="date", title="Start date",
                            description="First simulated day (YYYY-MM-DD). Empty: shop.start_date."),
        "profile": Param(None, type=["null", "string"], title="Volume profile",
                         description="A profile of shop.profiles. Empty: shop.profile."),
    },
    max_active_runs=1,
)
def streaming_platform() -> None:
    topics = ApplyTopicsOperator(task_id="apply_topics")

    # No retry: a retry would publish a second batch (new transaction ids) on top of the first.
    # No Asset event either: stream_jobs is scheduled on the purchases Asset, and this run processes
    # its batch itself; a second run on the default engine would race it for the output topics.
    generated = SalesGeneratorOperator(
        task_id="generate_sales",
        retries=0,
        # A simulated run ends with its last day: Transactions is then not a bound.
        transactions="{{ '' if params.days else params.transactions }}",
        mode="{{ params.mode }}",
        seed="{{ params.seed }}",
        speed="{{ params.speed }}",
        days="{{ params.days }}",
        first_day="{{ params.start_date }}",
        profile="{{ params.profile }}",
    )

    # Any engine, through one protocol: the engine param (else STREAMSTACK_ENGINE) picks the adapter.
    engine_jobs = StreamJobOperator(task_id="stream_jobs", engine="{{ params.engine or '' }}", action="submit",
                                    mode="bounded")
    engine_done = StreamJobSensor(task_id="stream_jobs_done", engine="{{ params.engine or '' }}", mode="bounded",
                                  submitted_task_id="stream_jobs", outlets=[PURCHASES_ENRICHED])
    pinot_tables = ApplyPinotTablesOperator(task_id="apply_pinot_tables")
    ingested = PinotIngestionSensor(task_id="wait_ingested", poke_interval=5, timeout=600)
    top = PinotNamedQueryOperator(task_id="top_products", query_name="top-products-enriched", limit=10)

    @task(task_id="quality_gate")
    def quality_gate(generated: dict, run_id: str | None = None, ti=None) -> dict[str, Any]:
        """The hour up to the end of this run's batch (from its XCom, not now(): a cleared task
        checks the same rows again); for a simulated run, the simulated days it generated."""
        from datetime import datetime, timedelta

        from streamstack.providers.quality.tasks import check_purchases_enriched

        end, minutes = datetime.fromisoformat(generated["finished_at"]) + timedelta(seconds=1), 60.0
        max_age = None
        if generated.get("simulated_days") and generated.get("last_event_time"):
            from streamstack.providers.generator.operators import simulated_window

            end, minutes = simulated_window(generated)
            max_age = minutes / 60 + 1  # every simulated day is in bounds
        return check_purchases_enriched(source="pinot", window_end=end, window_minutes=minutes,
                                        run_id=run_id or "manual", ti=ti, max_age_hours=max_age)

    @task(task_id="batch_accounted")
    def batch_accounted(generated: dict) -> dict[str, Any]:
        """Every purchase line of this run reached Pinot (the gate sees rows, not missing ones)."""
        from streamstack.providers.pinot.tasks import check_batch_accounted

        return check_batch_accounted(generated)

    @task(task_id="summary")
    def summary(generated: dict, tables: dict, top_rows: list, quality: dict) -> dict[str, Any]:
        from streamstack.providers.platform import platform_summary

        return platform_summary(generated=generated, tables=tables, top_products=top_rows, quality=quality)

    gate = quality_gate(generated.output)
    accounted = batch_accounted(generated.output)
    topics >> generated >> engine_jobs >> engine_done
    # Tables are applied while the engine works (not after it: a cold demo waited ~10 s on that);
    # ingestion is awaited once every job has written.
    generated >> pinot_tables
    [engine_done, pinot_tables] >> ingested >> [top, gate, accounted]
    summary(generated.output, ingested.output, top.output, gate) << accounted
    ingested >> PublishDashboardsOperator(task_id="publish_dashboards")


streaming_platform()
