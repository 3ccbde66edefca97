"""Kafka topics as code: reconcile the cluster with config/topics.yaml."""

from __future__ import annotations

from airflow.sdk import Param, dag

from streamstack.providers.defaults import DEFAULT_ARGS
from streamstack.providers.kafka.operators import ApplyTopicsOperator, DescribeTopicsOperator

DOC = """
### Kafka topics

Brings the cluster behind the `kafka_default` connection to the state declared in
`config/topics.yaml`: creates missing topics **with their configs**, repairs configs that
drifted, adds partitions when the file asks for more. It refuses a partition decrease or a
replication-factor change with a clear error. Re-running changes nothing, so trigger it as
often as you like; then `verify_topics` reads the cluster back.

Run `dry_run` to see the plan without changing anything. Not scheduled: unpausing it starts
nothing; `streaming_platform` applies the topics too.

**Params**

- `dry_run` (default off) — only log the plan.
"""


@dag(
    dag_id="kafka_topics",
    description="Setup: create or repair the Kafka topics declared in config/topics.yaml (idempotent).",
    schedule=None,
    tags=["streamstack", "kafka", "setup"],
    doc_md=DOC,
    default_args=DEFAULT_ARGS,
    params={
        "dry_run": Param(False, type="boolean", title="Dry run", description="Only show what would change."),
    },
    max_active_runs=1,
)
def kafka_topics() -> None:
    apply = ApplyTopicsOperator(task_id="apply_topics", dry_run="{{ params.dry_run }}")
    verify = DescribeTopicsOperator(task_id="verify_topics")
    apply >> verify


kafka_topics()
