"""
### Apache Flink jobs (PyFlink on the session cluster)

Runs the three jobs of `jobs/flink/` on the Flink session cluster of the stack (dashboard and
REST API on `STREAMSTACK_FLINK_PORT`, default 8081):

* `purchases_enrichment`: event-time temporal join of purchases with the product version valid
  at `transaction_time` -> `demo.purchases.enriched`; malformed purchases and purchases older than
  every version of their product -> `demo.purchases.invalid` with the contract's reason code;
* `running_totals`: totals per product -> `demo.running.totals`;
* `sales_windows`: 10-minute windows sliding every 5 minutes -> `demo.sales.windows`.

Params: `jobs` (default all) — which Flink jobs; `mode` (default `bounded`): `bounded` (what Kafka holds now, then finish), `continuous` (run until stopped;
resumes from the latest savepoint), `status` (state, restarts, last checkpoint, lag), `stop`
(stop with a savepoint), `resume` (continuous from the latest savepoint; fails without one).
A retry never starts a second copy: a running job of the same name is reused. Sinks are
exactly-once (transactional): consumers read committed only. Waits reschedule, holding no slot.
Flink writes the shared output topics only as the chosen engine (`STREAMSTACK_ENGINE=flink` or
the `streaming_platform` param `engine`); it claims them, and a claim of another engine fails the run.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag

from streamstack.providers.defaults import DEFAULT_ARGS
from streamstack.providers.flink.operators import FlinkJobOperator, FlinkJobSensor

JOBS = ["purchases_enrichment", "running_totals", "sales_windows"]
MODES = ["bounded", "continuous", "status", "stop", "resume"]


@dag(
    dag_id="flink_streaming",
    description="Submit, watch, stop with a savepoint and resume the PyFlink jobs on the Flink cluster.",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["streamstack", "flink", "streaming"],
    params={
        "jobs": Param(JOBS, type="array", items={"type": "string", "enum": JOBS}, title="Jobs",
                      description="which Flink jobs the action applies to"),
        "mode": Param("bounded", enum=MODES, title="Mode",
                      description="bounded: process what is in Kafka, then finish; continuous: run until stopped "
                                  "(from the latest savepoint); status: health; stop: stop with a savepoint; "
                                  "resume: continue from the latest savepoint"),
    },
    doc_md=__doc__,
)
def flink_streaming() -> None:
    act = FlinkJobOperator(task_id="flink_jobs", jobs=JOBS, action="{{ params.mode }}")
    wait = FlinkJobSensor(task_id="wait", jobs_task_id="flink_jobs", action="{{ params.mode }}", timeout=3600)
    act >> wait


flink_streaming()
