"""
### Stream jobs, on any engine

The three jobs of the platform, on the engine of your choice — Spark Structured Streaming
(`jobs/spark/`), Apache Flink (`jobs/flink/`, on the session cluster) or Kafka Streams
(`jobs/kstreams/`) — through one protocol (`streamstack.engines`):

* `purchases_enrichment`: purchases + the product version valid at `transaction_time` ->
  `demo.purchases.enriched`; malformed purchases and unknown products -> `demo.purchases.invalid`
  with the contract's reason code;
* `running_totals`: totals per product -> `demo.running.totals`;
* `sales_windows`: 10-minute windows sliding 5 -> `demo.sales.windows`; a line more than 10
  minutes behind the newest seen -> `demo.purchases.invalid` as `late`.

**Params**

- `engine` — `spark`, `flink` or `kstreams`; empty: the worker's `STREAMSTACK_ENGINE` (spark);
- `jobs` — which jobs (default all three);
- `action` — `submit`, `stop` (Flink: with a savepoint), `status` (state, lag per input
  partition, last commit) or `reset` (forget checkpoint, savepoint and offsets of stopped jobs);
- `mode` — for `submit`: `bounded` (what the inputs hold now, then finish) or `continuous`
  (until stopped);
- `resume` — for `submit`: from where the jobs stopped (default) or from the inputs' start;
- `allow_shrink` — rebuild the all-time running totals even from a purchases topic that
  retention has trimmed (they would shrink to what it still holds); off, such a rebuild (a reset,
  a fresh start, Flink's bounded totals) fails and says how many records are gone.

`wait` waits for a submission — bounded runs to finish, continuous jobs to run with a first
commit — in the triggerer, holding no worker slot; a failed job fails it with the engine's reason.
An engine is refused while another one's job writes the same topics (the message names it).

**Schedule**: Asset-triggered. Unpaused, it runs bounded (the default params) every time the
`streamstack.topics.purchases` asset is updated, i.e. after each `sales_generator` run.
Connections: `kafka_default`, and `spark_default`, `flink_default` or `kstreams_default`.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag

from streamstack.providers.assets import PURCHASES, PURCHASES_ENRICHED
from streamstack.providers.defaults import DEFAULT_ARGS
from streamstack.providers.engines.operators import ACTIONS, JOBS, MODES, StreamJobOperator
from streamstack.providers.engines.sensors import StreamJobSensor


@dag(
    dag_id="stream_jobs",
    description="Submit, wait for, stop, check or reset the stream jobs on Spark, Flink or Kafka Streams.",
    schedule=[PURCHASES],
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["streamstack", "streaming", "spark", "flink", "kstreams"],
    params={
        "engine": Param("", type="string", enum=["", "spark", "flink", "kstreams"], title="Engine",
                        description="spark, flink or kstreams; empty: the worker's STREAMSTACK_ENGINE (spark)."),
        "jobs": Param(list(JOBS), type="array", items={"type": "string", "enum": list(JOBS)}, title="Jobs",
                      description="Which jobs the action applies to."),
        "action": Param("submit", enum=list(ACTIONS), title="Action",
                        description="submit | stop (resumable) | status | reset (stopped jobs: start over)."),
        "mode": Param("bounded", enum=list(MODES), title="Mode",
                      description="submit only: bounded (what the inputs hold now, then finish) or continuous "
                                  "(until stopped)."),
        "resume": Param(True, type="boolean", title="Resume",
                        description="submit only: continue from where the jobs stopped (else from the inputs' start)."),
        "allow_shrink": Param(False, type="boolean", title="Allow smaller all-time totals",
                              description="Rebuild the running totals even from a purchases topic retention "
                                          "has trimmed (they shrink to what it still holds)."),
    },
    render_template_as_native_obj=True,
    doc_md=__doc__,
)
def stream_jobs() -> None:
    jobs = "{{ params.jobs }}"
    act = StreamJobOperator(task_id="act", engine="{{ params.engine }}", jobs=jobs, action="{{ params.action }}",
                            mode="{{ params.mode }}", resume="{{ params.resume }}",
                            allow_shrink="{{ params.allow_shrink }}")
    wait = StreamJobSensor(task_id="wait", engine="{{ params.engine }}", jobs=jobs,
                           mode="{{ params.mode if params.action == 'submit' else 'none' }}",
                           submitted_task_id="act", outlets=[PURCHASES_ENRICHED])
    act >> wait


stream_jobs()
