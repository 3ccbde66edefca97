"""
### Kafka Streams apps

Runs the three Kafka Streams apps of `jobs/kstreams/` (Java, exactly once) against the cluster of
the `kafka_default` connection:

* `running_totals`: purchases -> running totals per product -> `demo.running.totals`, queryable
  at `GET http://127.0.0.1:<port>/totals/{product_id}` (port `STREAMSTACK_KSTREAMS_PORT`, 7070);
* `purchases_enrichment`: purchases + the product version valid at `transaction_time` ->
  `demo.purchases.enriched`; malformed purchases and purchases older than every version of their
  product -> `demo.purchases.invalid` with the contract's reason code;
* `sales_windows`: purchases -> sales per product in 10-minute windows sliding 5 -> `demo.sales.windows`;
  a line more than 10 minutes behind the newest seen -> `demo.purchases.invalid` as `late`.

Param `app`: one app, or `all`. Param `action`:

* `start`: start the app(s) in the background (replacing running copies), wait for RUNNING;
* `status`: state from each app's `/health` endpoint and lag behind the input topics;
* `stop`: close cleanly (last transaction committed, group left at once);
* `reset`: delete committed offsets, internal topics and local state of stopped app(s), so the
  next start reprocesses everything (what Kafka's application reset tool does);
* `run`: process the input up to its current end, then stop (a bounded run).

The first start builds the Maven project (`streamstack kstreams build`), ~30 s.

**Params**: `app` (default `all`) — which app(s); `action` (default `status`) — what to do.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task

from streamstack.providers.defaults import DEFAULT_ARGS
from streamstack.providers.kstreams.operators import (
    KStreamsHealthOperator,
    KStreamsResetOperator,
    KStreamsRunOperator,
    KStreamsStartOperator,
    KStreamsStopOperator,
)

ACTIONS = ["start", "status", "stop", "reset", "run"]


@dag(
    dag_id="kstreams_apps",
    description="Start, check, stop, reset or run the Kafka Streams apps (running totals, enrichment, windows).",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["streamstack", "kstreams", "streaming"],
    params={
        "app": Param("all", enum=["all", "running_totals", "purchases_enrichment", "sales_windows"], title="App",
                     description="Which Kafka Streams app: one of them, or all."),
        "action": Param("status", enum=ACTIONS, title="Action",
                        description="start | status | stop | reset (stopped apps only) | run (bounded)."),
    },
    doc_md=__doc__,
)
def kstreams_apps() -> None:
    @task.branch
    def choose_action(params: dict | None = None) -> str:
        """Route the run to the task of its action."""
        return (params or {}).get("action", "status")

    app = "{{ params.app }}"
    start = KStreamsStartOperator(task_id="start", app=app)
    started = KStreamsHealthOperator(task_id="started", app=app)
    status = KStreamsHealthOperator(task_id="status", app=app, require_running=False)
    stop = KStreamsStopOperator(task_id="stop", app=app)
    reset = KStreamsResetOperator(task_id="reset", app=app)
    run = KStreamsRunOperator(task_id="run", app=app)
    choose_action() >> [start, status, stop, reset, run]
    start >> started


kstreams_apps()
