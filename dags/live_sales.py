"""Live smoothie sales: the generator without end, one bounded chunk per DAG run, never sent twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag

from streamstack.providers.defaults import DEFAULT_ARGS
from streamstack.providers.generator.operators import LIVE_SEED, LiveSalesOperator

DOC = f"""
### Live sales

The shop open without end, as the original demo ran: sales in `realistic` mode (2-5 s apart,
divided by **speed**) on `demo.purchases` and restocks on `demo.inventories`, through the
`kafka_default` connection. Each DAG run produces one bounded chunk of **transactions** sales
(20 at speed 1: about 70 s), and the `@continuous` schedule starts the next run as soon as one
ends (one at a time).

* **Every sale is one Kafka transaction**: its lines and the restocks it causes become visible
  together, or not at all, to `read_committed` readers (Pinot reads so).
* **A retry never sends a sale twice**: a chunk's sales follow from `live_seed` and the run
  (its `run_id`, hashed: the same for every retry or clear of the run, new for the next run), so
  a retry draws the same sales; it fences the failed attempt, reads the `transaction_id`s on
  `demo.purchases` since the run was created (minus 60 s) and sends only the missing ones. The
  result's `skipped` counts those found.
* The catalogue goes to `demo.products` only when the topic does not already hold it as the
  version valid now: not every minute.
* Live, the stream jobs run `continuous` (`streamstack live start`, which also unpauses this
  DAG). A chunk updates no Asset: `stream_jobs`, scheduled on `streamstack.topics.purchases`,
  would start a bounded run after every chunk, beside the continuous jobs.

**Schedule**: `@continuous`, paused at creation. Unpausing it starts the live stream: a chunk of
20 sales, then the next, until it is paused again (the running chunk finishes first).

**Params**

- `transactions` (default 20, 1 to 10,000) — sales per chunk (each has 1-3 line items); a chunk
  has an hour (the task's timeout): about 1,000 sales at speed 1;
- `speed` (default 1 = real time, above 0, at most 1000) — divides the 2-5 s pauses;
- `live_seed` (default {LIVE_SEED}) — the seed of the whole live stream; with the run, it fixes each chunk's sales.
"""


@dag(
    dag_id="live_sales",
    description="Live smoothie sales into Kafka: one chunk after another, each sale a transaction, no double sends.",
    schedule="@continuous",
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    # A stream without end starts only when someone unpauses it, whatever the deployment's default.
    is_paused_upon_creation=True,
    tags=["streamstack", "kafka", "generator", "live"],
    doc_md=DOC,
    default_args=DEFAULT_ARGS,
    params={
        "transactions": Param(20, type="integer", minimum=1, maximum=10_000, title="Transactions per chunk",
                              description="Sales in each DAG run's chunk (each has 1-3 line items)."),
        "speed": Param(1.0, type="number", exclusiveMinimum=0, maximum=1000, title="Speed",
                       description="Divides the realistic 2-5 s pauses between sales (1 = real time)."),
        "live_seed": Param(LIVE_SEED, type="integer", title="Live seed",
                           description="Seed of the live stream: with the run's id it fixes a chunk's sales, "
                                       "so a retry resends none."),
    },
)
def live_sales() -> None:
    # Retries are safe here (DEFAULT_ARGS): a retry sends only the chunk's sales that did not land.
    LiveSalesOperator(
        task_id="generate_chunk",
        execution_timeout=timedelta(hours=1),
        transactions="{{ params.transactions }}",
        speed="{{ params.speed }}",
        live_seed="{{ params.live_seed }}",
    )


live_sales()
