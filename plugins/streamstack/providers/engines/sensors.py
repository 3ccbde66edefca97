"""Wait for stream jobs without holding a worker slot: a deferrable sensor over ``StreamJobTrigger``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator, Context, PokeReturnValue
from airflow.sdk.exceptions import AirflowException, AirflowSkipException

from streamstack.providers.engines.hooks import FLINK_DEFAULT, KAFKA_DEFAULT, KSTREAMS_DEFAULT, SPARK_DEFAULT
from streamstack.providers.engines.operators import ENGINE_FIELDS, JOBS, MODES, EngineTaskMixin
from streamstack.providers.engines.triggers import StreamJobTrigger


class StreamJobSensor(EngineTaskMixin, BaseSensorOperator):
    """Done when every job is done for ``mode``: a bounded run finished (or a continuous copy that
    already ran caught up), a continuous job running with a commit. A failed job, or one committed
    past the end of its input, fails the task with the engine's reason.

    Deferrable by default: the task checks once, then hands the wait to the triggerer (the
    trigger polls ``status``). Returns (XCom) each job's last status.

    :param mode: ``bounded`` or ``continuous``; anything else (a ``stop``, ``status`` or
        ``reset`` run of the same DAG) has nothing to wait for: the task is skipped, so its
        outlets get no Asset event (templated).
    :param deferrable: wait in the triggerer (default) or poke in ``reschedule`` mode.
    :param poll_interval: seconds between two looks at the jobs.
    :param submitted_task_id: the :class:`StreamJobOperator` that submitted the jobs: once a
        bounded run is done, the log says what it read, wrote and dead-lettered (by reason).
    Other parameters as :class:`~streamstack.providers.engines.operators.StreamJobOperator`.
    """

    template_fields: Sequence[str] = (*ENGINE_FIELDS, "wait_for")

    def __init__(
        self,
        *,
        engine: str = "",
        jobs: Sequence[str] | str = JOBS,
        mode: str = "bounded",
        deferrable: bool = True,
        poll_interval: float = 5.0,
        submitted_task_id: str | None = None,
        kafka_config_id: str = KAFKA_DEFAULT,
        spark_conn_id: str = SPARK_DEFAULT,
        flink_conn_id: str = FLINK_DEFAULT,
        kstreams_conn_id: str = KSTREAMS_DEFAULT,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("timeout", 3600)
        kwargs.setdefault("poke_interval", poll_interval)
        if not deferrable:
            kwargs.setdefault("mode", "reschedule")
        super().__init__(**kwargs)
        # ``mode`` is BaseSensorOperator's (poke/reschedule): the jobs' mode is ``wait_for``.
        self.engine, self.jobs, self.wait_for = engine, jobs, mode
        self.deferrable, self.poll_interval = deferrable, poll_interval
        self.submitted_task_id = submitted_task_id
        self.kafka_config_id, self.spark_conn_id = kafka_config_id, spark_conn_id
        self.flink_conn_id, self.kstreams_conn_id = flink_conn_id, kstreams_conn_id

    def _trigger(self) -> StreamJobTrigger:
        return StreamJobTrigger(self.engine or "", self.job_names(), self.wait_for, self.connections(),
                                poll_interval=self.poll_interval)

    def _result(self, result: dict[str, Any], context: Context) -> dict[str, Any]:
        for line in result["lines"]:
            self.log.info("%s", line)
        if result["status"] == "failed":
            raise AirflowException(f"stream job failed:\n{result['message']}")
        statuses = result["statuses"]
        for job, report in self._run_reports(context).items():
            self.log.info("%s", report.line())
            statuses[job]["run"] = report.as_dict()
        return statuses

    def _run_reports(self, context: Context) -> dict[str, Any]:
        """What each bounded run did, from the starting points ``submitted_task_id`` recorded."""
        if not self.submitted_task_id or self.wait_for != "bounded":
            return {}
        from streamstack.engines.report import run_report

        submitted = context["ti"].xcom_pull(task_ids=self.submitted_task_id) or {}
        engine = self.stream_engine()
        return {job: run_report(engine.kafka_config, engine.topic_names, engine.name, job, info["run"]["to_read"],
                                info["run"]["outputs_before"])
                for job, info in submitted.items() if isinstance(info, dict) and info.get("run")}

    def execute(self, context: Context) -> Any:
        if self.wait_for not in MODES:
            # Skipped, not succeeded: a status or stop run emits no Asset event downstream.
            raise AirflowSkipException(f"nothing to wait for ({self.wait_for})")
        self.stream_engine()  # a wrong engine param fails here, not in the triggerer
        if not self.deferrable:
            return super().execute(context)
        result = self._trigger().poll_once()
        if result["status"] != "waiting":
            return self._result(result, context)
        self.defer(trigger=self._trigger(), method_name="execute_complete", timeout=timedelta(seconds=self.timeout))

    def poke(self, context: Context) -> PokeReturnValue:
        result = self._trigger().poll_once()
        if result["status"] == "waiting":
            for line in result["lines"]:
                self.log.info("%s", line)
            return PokeReturnValue(is_done=False)
        return PokeReturnValue(is_done=True, xcom_value=self._result(result, context))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        return self._result(event, context)
