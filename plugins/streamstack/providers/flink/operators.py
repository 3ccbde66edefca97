"""Operators and a sensor for the PyFlink jobs on the session cluster, thin over ``streamstack.flink``.

- :class:`FlinkJobOperator` does one action for a list of jobs: ``bounded`` / ``continuous``
  submit (a running copy of the same name is returned, never a second one; continuous resumes
  from the latest savepoint), ``resume`` the same but requires a savepoint, ``stop`` is a
  stop-with-savepoint, ``status`` reports health (state, restarts, last checkpoint, lag).
  It returns ``{job: flink job id}`` for the sensor.
- :class:`FlinkJobSensor` waits, in ``reschedule`` mode (no worker slot held while waiting),
  until bounded jobs FINISHED, or continuous ones RUNNING with a completed checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, BaseSensorOperator, Context

ACTIONS = ("bounded", "continuous", "status", "stop", "resume")


def _control(kafka_config_id: str | None = None):
    """The job control, its Kafka settings from the ``kafka_config_id`` connection (as the Spark operators)."""
    from streamstack.flink.control import FlinkJobControl

    if kafka_config_id is None:
        return FlinkJobControl()
    from streamstack.providers.kafka.hooks import KafkaConfigHook

    return FlinkJobControl(kafka_config=KafkaConfigHook(kafka_config_id=kafka_config_id).client_config())


class FlinkJobOperator(BaseOperator):
    """One action (``bounded|continuous|status|stop|resume``) for each of ``jobs`` (or the run's param ``jobs``).

    :param kafka_config_id: the Kafka connection the jobs read and write through (bootstrap on
        the job's command line; SASL/TLS as Java properties in a 0600 file, never on it).
    """

    template_fields: Sequence[str] = ("action",)

    def __init__(self, *, jobs: Sequence[str], action: str = "bounded", kafka_config_id: str = "kafka_default",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.jobs = list(jobs)
        self.action = action
        self.kafka_config_id = kafka_config_id

    def execute(self, context: Context) -> dict[str, Any]:
        if self.action not in ACTIONS:
            raise ValueError(f"action {self.action!r} is not one of {list(ACTIONS)}")
        control = _control(self.kafka_config_id)
        out: dict[str, Any] = {}
        params = context.get("params") or {}
        jobs = list(params.get("jobs") or self.jobs)
        if self.action == "status":
            for job in jobs:
                out[job] = control.status(job)
                self.log.info("%s: %s", job, out[job])
        elif self.action == "stop":
            for job in jobs:
                out[job] = control.stop(job)
                self.log.info("%s: %s", job, f"stopped, savepoint {out[job]}" if out[job] else "not running")
        else:
            if self.action == "resume":
                missing = [j for j in jobs if control.running(j) is None and control.latest_savepoint(j) is None]
                if missing:
                    raise RuntimeError(f"{', '.join(missing)}: no savepoint to resume from; stop with mode=stop first")
            mode = "bounded" if self.action == "bounded" else "continuous"
            for job, started in control.start_all(jobs, mode=mode, resume=self.action != "bounded").items():
                self.log.info("%s: Flink job %s %s", job, started.jid,
                              "submitted" if started.submitted else "already running (no second copy)")
                out[job] = started.jid
        return out


class FlinkJobSensor(BaseSensorOperator):
    """Wait for the jobs started upstream: FINISHED (bounded) or RUNNING with a checkpoint (continuous).

    :param jobs_task_id: the :class:`FlinkJobOperator` whose XCom maps job -> Flink job id.
    :param action: that operator's action; ``status`` and ``stop`` need no wait.
    """

    template_fields: Sequence[str] = ("action",)

    def __init__(self, *, jobs_task_id: str, action: str, **kwargs: Any) -> None:
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("poke_interval", 15)
        super().__init__(**kwargs)
        self.jobs_task_id = jobs_task_id
        self.action = action

    def poke(self, context: Context) -> bool:
        if self.action in ("status", "stop"):
            return True
        from streamstack.flink.rest import TERMINAL

        jids: dict[str, str] = context["ti"].xcom_pull(task_ids=self.jobs_task_id) or {}
        rest = _control().rest
        done = True
        for job, jid in jids.items():
            health = rest.health(jid)
            state = health["state"]
            if self.action == "bounded":
                if state in TERMINAL and state != "FINISHED":
                    raise RuntimeError(f"{job}: Flink job {jid} ended {state}: {rest.root_cause(jid)}")
                done = done and state == "FINISHED"
            else:
                if state in TERMINAL:
                    raise RuntimeError(f"{job}: Flink job {jid} ended {state}: {rest.root_cause(jid)}")
                done = done and state == "RUNNING" and bool(health["last_checkpoint_id"])
            self.log.info("%s: %s", job, health)
        return done
