"""
### Spark Structured Streaming jobs

Runs the three jobs of `jobs/spark/` against Kafka through the Spark provider's
`SparkSubmitOperator` (connection `spark_default`: `local[*]` embedded, `spark://spark-master:7077`
in compose):

* `purchases_enrichment`: purchases + the latest product version -> `demo.purchases.enriched`;
  malformed purchases and unknown products -> `demo.purchases.invalid` with the reason;
* `running_totals`: unwindowed totals per product -> `demo.running.totals`;
* `sales_windows`: 10-minute windows sliding 5 minutes -> `demo.sales.windows`; a line more than 10 minutes
  behind the newest seen -> `demo.purchases.invalid` as `late`.

Param `mode`:

* `available-now` (default, and what a new `streamstack.topics.purchases` Asset event triggers): each job
  processes what the topics hold from its checkpoint on and finishes; the three run at once. Skipped
  for a job that runs in continuous mode.
* `continuous`: starts the jobs long-running in the background (replacing running copies), then
  waits until each has committed a micro-batch and reports progress and lag.
* `status`: reports progress and lag of each job.
* `stop`: stops the long-running jobs between micro-batches.

**Schedule**: Asset-triggered. Unpaused, it runs (available-now) every time the
`streamstack.topics.purchases` asset is updated, i.e. after each `sales_generator` run.

**Params**

- `mode` (default `available-now`) — `available-now`, `continuous`, `status` or `stop`;
- `interval` (default `1 second`) — continuous mode only: the processing-time trigger, e.g.
  `500 milliseconds`, `10 seconds`, `1 minute`.

Each job task logs and returns (XCom) what it did: records read per partition and the offsets
covered, records written, dead letters by reason code.

Checkpoints live under `<state>/spark/checkpoints`; a restart resumes where the last committed
batch ended. A retry never leaves two copies writing one topic (checkpoint lock per job).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task

from streamstack.providers.assets import PURCHASES, PURCHASES_ENRICHED
from streamstack.providers.defaults import DEFAULT_ARGS
from streamstack.providers.spark.operators import (
    SparkStreamingHealthOperator,
    SparkStreamingJobOperator,
    SparkStreamingStartOperator,
    SparkStreamingStopOperator,
)

JOBS = ["purchases_enrichment", "running_totals", "sales_windows"]
MODES = ["available-now", "continuous", "status", "stop"]


@dag(
    dag_id="spark_streaming",
    description="Spark Structured Streaming: enrich purchases, running totals, sliding windows (batch or continuous).",
    schedule=[PURCHASES],
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["streamstack", "spark", "streaming"],
    params={
        "mode": Param(
            "available-now",
            type="string",
            enum=MODES,
            title="Mode",
            description="available-now: process what the topics hold, then finish; continuous: start the jobs "
            "long-running; status: report progress and lag; stop: stop the long-running jobs.",
        ),
        "interval": Param(
            "1 second",
            type=["null", "string"],
            pattern=r"^\s*\d+(\.\d+)?\s*(ms|milliseconds?|seconds?|minutes?|hours?)\s*$",
            title="Trigger interval (continuous mode)",
            description="Continuous mode only: how often a micro-batch starts, e.g. '1 second', '500 milliseconds', "
            "'1 minute'. Ignored by the other modes.",
        ),
    },
    doc_md=__doc__,
)
def spark_streaming() -> None:
    @task.branch
    def choose_mode(params: dict | None = None) -> list[str]:
        """Route the run to the tasks of its mode."""
        mode = (params or {}).get("mode", "available-now")
        return {
            "available-now": ["purchases_enrichment", "running_totals", "sales_windows"],
            "continuous": ["start_continuous", "health"],
            "status": ["health"],
            "stop": ["stop_continuous"],
        }[mode]

    enrichment = SparkStreamingJobOperator(
        task_id="purchases_enrichment", job="purchases_enrichment", outlets=[PURCHASES_ENRICHED]
    )
    totals = SparkStreamingJobOperator(task_id="running_totals", job="running_totals")
    windows = SparkStreamingJobOperator(task_id="sales_windows", job="sales_windows")
    start = SparkStreamingStartOperator(task_id="start_continuous", jobs=JOBS, interval="{{ params.interval }}")
    health = SparkStreamingHealthOperator(
        task_id="health", jobs=JOBS, mode="{{ params.mode }}", trigger_rule="none_failed_min_one_success"
    )
    stop = SparkStreamingStopOperator(task_id="stop_continuous", jobs=JOBS)

    # The three jobs at once (each reads its own topic and checkpoint): on two cores one job's
    # JVM start and Kafka waits overlap another's work.
    choose_mode() >> [enrichment, totals, windows, start, health, stop]
    start >> health


spark_streaming()
