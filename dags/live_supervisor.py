"""
### Live supervisor

Watches the live pipeline (`streamstack live start`: the engine's three jobs running
continuously, `live_sales` selling, Pinot ingesting) once a minute; it does not process anything.

Each check:

* **restarts** a job that is not running from its checkpoint (Spark), savepoint (Flink) or
  committed offsets (Kafka Streams);
* **fails**, naming every reason, on a **crash loop** (a job restarted twice within
  `crash_loop_minutes`, or restarted by its engine since the last check), a job's **lag** above its bound, Pinot's newest
  enriched purchase older than the **freshness** bound, or a **dead-letter rate** above its bound
  over the last window. The bounds are `config/live.yaml`'s.

A failed check calls the alert notifier: it posts the reason to the webhook URL of connection
`streamstack_alerts` (a Slack incoming webhook, or any URL taking `{"text": ...}`); without that
connection the failure stays in this UI. See `docs/live.md` for Slack and e-mail.

**Schedule**: every minute. Unpausing it starts a check a minute (`streamstack live start`
unpauses it); each is skipped while the pipeline is not live (`streamstack live stop`).

**Params**: `engine` (empty: the engine the pipeline was started on), `restart` (restart jobs
that stopped; off: only report).

Connections: `kafka_default`, the engine's (`spark_default`, `flink_default` or
`kstreams_default`), `pinot_controller_default`, `pinot_broker_default`, `streamstack_alerts`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag

from streamstack.providers.defaults import DEFAULT_ARGS
from streamstack.providers.live.notifiers import WebhookNotifier
from streamstack.providers.live.operators import LiveSupervisorOperator


@dag(
    dag_id="live_supervisor",
    description="Every minute: restart live jobs that stopped; fail (and alert) past a health bound.",
    schedule=timedelta(minutes=1),
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["streamstack", "live", "supervision"],
    params={
        "engine": Param("", type="string", enum=["", "spark", "flink", "kstreams"], title="Engine",
                        description="Empty: the engine `streamstack live start` started the pipeline on."),
        "restart": Param(True, type="boolean", title="Restart stopped jobs",
                         description="Off: only check and report."),
    },
    render_template_as_native_obj=True,
    doc_md=__doc__,
)
def live_supervisor() -> None:
    LiveSupervisorOperator(task_id="check", engine="{{ params.engine }}", restart="{{ params.restart }}",
                           on_failure_callback=[WebhookNotifier()])


live_supervisor()
