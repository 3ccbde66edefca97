"""Operators for the Spark jobs of ``jobs/spark``, thin over ``streamstack.spark``.

- :class:`SparkStreamingJobOperator` is a ``SparkSubmitOperator`` (connection ``spark_default``)
  whose application, arguments, jars and py-files are built at run time by
  ``streamstack.spark.jobs.submission`` (Maven may run then, never at parse time).
- :class:`SparkStreamingStartOperator`, :class:`SparkStreamingHealthOperator` and
  :class:`SparkStreamingStopOperator` run the long-running copies of the jobs in the background,
  report progress and lag, and stop them between micro-batches.

No two copies of a job ever write: every start stops the running copy first, and a job refuses
to start while another holds its checkpoint lock (see ``streamstack.spark.control``).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator, BaseSensorOperator, Context
from airflow.sdk.exceptions import AirflowSkipException


def _ensure_spark_submit_on_path() -> None:
    """The hook runs plain ``spark-submit``: make the one beside this Python (the venv's) findable."""
    if shutil.which("spark-submit") is None:
        os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


class SparkStreamingJobOperator(BaseOperator):
    """Submit one streamstack Spark job available-now: process what the topics hold, then finish.

    Submits through the Spark provider's ``SparkSubmitHook`` (connection ``spark_default``), with
    the application, arguments, jars and py-files that ``streamstack.spark.jobs.submission``
    builds at run time (Maven may run then, never at parse time). Kafka endpoints and
    credentials come from the ``kafka_config_id`` connection; secrets reach the job in a 0600
    file, never on the command line.

    :param job: job name (``purchases_enrichment``, ``running_totals``, ``sales_windows``).
    :param conn_id: the Spark connection (master, deploy mode).
    :param kafka_config_id: the Kafka connection the job reads and writes through.
    :param conf: Spark settings on top of the project's defaults.
    :param wait_for_other: seconds to wait for another run's copy of the job to finish (it is
        never stopped: that run would report success for work not done).
    """

    template_fields: Sequence[str] = ("job", "conf")

    def __init__(
        self,
        *,
        job: str,
        conn_id: str = "spark_default",
        kafka_config_id: str = "kafka_default",
        conf: dict[str, str] | None = None,
        wait_for_other: float = 1800.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.conn_id = conn_id
        self.kafka_config_id = kafka_config_id
        self.conf = conf
        self.wait_for_other = wait_for_other
        self._submit_hook: Any = None

    def execute(self, context: Context) -> dict[str, Any]:
        """Submit and wait; log and return (XCom) what the run did: see ``streamstack.spark.report``."""
        from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook

        from streamstack.providers.kafka.hooks import KafkaConfigHook
        from streamstack.spark.control import SparkJobControl
        from streamstack.spark.jobs import jit_conf, job_spec, submission
        from streamstack.spark.report import backlog, job_report, snapshot

        kafka_config = KafkaConfigHook(kafka_config_id=self.kafka_config_id).client_config()
        control = SparkJobControl(kafka_config=kafka_config)
        holder = control.holder(self.job)
        if holder is not None and holder.mode == "processing-time":
            raise AirflowSkipException(
                f"{self.job} runs in continuous mode (driver pid {holder.pid}) and processes new input already"
            )
        if holder is not None:
            # Another run's copy is mid-work: never stop it (that run would report success for
            # work not done); wait for it, then process whatever it left.
            self.log.info("waiting for another run's copy of %s (pid %s, %s) to finish", self.job, holder.pid, holder.mode)
            holder = control.wait_for_other(self.job, timeout=self.wait_for_other)
            if holder is not None:
                raise AirflowSkipException(
                    f"{self.job} runs in continuous mode (driver pid {holder.pid}) and processes new input already"
                )
        before = snapshot(control, self.job)
        topics = {flag: control.topics[logical].name for flag, logical in job_spec(self.job).topics.items()}
        self.log.info(
            "%s (available-now): process what %s hold past the checkpoint (batch %s), write %s, then finish",
            self.job,
            ", ".join(t for f, t in topics.items() if f not in ("output-topic", "invalid-topic")),
            before.batch,
            ", ".join(t for f, t in topics.items() if f in ("output-topic", "invalid-topic")),
        )
        sub = submission(self.job, control.settings, trigger="available-now", kafka_config=kafka_config)
        pending = backlog(control, self.job, before)
        jit = jit_conf(pending)
        self.log.info("%s input records to read: %s JIT", pending, "quick (C1)" if jit else "the JVM's default")
        _ensure_spark_submit_on_path()
        self._submit_hook = SparkSubmitHook(
            conn_id=self.conn_id,
            conf={**sub.conf, **jit, **(self.conf or {})},
            jars=",".join(sub.jars),
            py_files=",".join(sub.py_files),
            application_args=sub.application_args,
            env_vars=sub.env,
            name=f"streamstack-{self.job}",
        )
        control.claim(self.job)
        try:
            self._submit_hook.submit(sub.application)
        finally:
            control.release(self.job)
        report = job_report(control, self.job, before, snapshot(control, self.job))
        for line in report.lines():
            self.log.info("%s", line)
        return report.as_dict()

    def on_kill(self) -> None:
        if self._submit_hook is not None:
            self._submit_hook.on_kill()


def spark_master(conn_id: str) -> str:
    """The master URL of a Spark connection: ``host`` (``local[*]``, ``yarn``, ``spark://h``) and port.

    Read from the connection with the public ``get_connection``, the way the provider's hook
    reads a ``spark`` connection, so continuous jobs run on the same master as submitted ones.
    """
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    master = conn.host or "local[*]"
    if conn.port:
        master = f"{master}:{conn.port}"
    return master


class SparkStreamingStartOperator(BaseOperator):
    """Start jobs long-running (processing-time trigger), keeping running copies; returns their pids.

    :param jobs: job names.
    :param interval: processing-time trigger interval, e.g. ``"1 second"``.
    :param conn_id: Spark connection whose master runs the jobs (as for ``SparkSubmitOperator``).
    :param master: explicit Spark master; overrides the connection.
    :param kafka_config_id: the Kafka connection the jobs read and write through.
    """

    template_fields: Sequence[str] = ("interval", "master")

    def __init__(
        self,
        *,
        jobs: Sequence[str],
        interval: str = "1 second",
        conn_id: str = "spark_default",
        master: str | None = None,
        kafka_config_id: str = "kafka_default",
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.jobs = list(jobs)
        self.interval = interval
        self.conn_id = conn_id
        self.master = master
        self.kafka_config_id = kafka_config_id

    def execute(self, context: Context) -> dict[str, int]:
        from streamstack.providers.params import spark_interval
        from streamstack.spark.control import SparkJobControl

        interval = spark_interval("continuous", None if self.interval in (None, "None") else self.interval)
        _ensure_spark_submit_on_path()
        from streamstack.providers.kafka.hooks import KafkaConfigHook

        master = self.master or spark_master(self.conn_id)
        control = SparkJobControl(kafka_config=KafkaConfigHook(kafka_config_id=self.kafka_config_id).client_config())
        pids = {}
        for job in self.jobs:
            pids[job] = control.start(job, interval=interval, master=master)
            self.log.info("%s running: driver pid %s, log %s", job, pids[job], control.log_file(job))
        return pids


class SparkStreamingHealthOperator(BaseSensorOperator):
    """Report each job's progress and lag; in continuous mode, wait for a committed batch of each.

    A sensor: in ``reschedule`` mode (the default) it gives its worker slot back between checks,
    so waiting for a slow first micro-batch holds no slot.

    :param jobs: job names.
    :param mode: ``continuous`` requires every job to run and commit a batch within ``timeout``;
        any other value only reports once (and fails on a job whose last run failed).
    :param kafka_config_id: the Kafka connection lag is measured on.
    """

    template_fields: Sequence[str] = ("streaming_mode",)

    def __init__(
        self, *, jobs: Sequence[str], mode: str = "status", kafka_config_id: str = "kafka_default", **kwargs: Any
    ):
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("poke_interval", 5)
        kwargs.setdefault("timeout", 300)
        # BaseSensorOperator owns ``mode`` (poke/reschedule): ours is the streaming mode.
        self.streaming_mode = mode
        super().__init__(**kwargs)
        self.jobs = list(jobs)
        self.kafka_config_id = kafka_config_id

    def poke(self, context: Context) -> Any:
        from airflow.sdk import PokeReturnValue

        from streamstack.providers.kafka.hooks import KafkaConfigHook
        from streamstack.spark.control import SparkJobControl

        control = SparkJobControl(kafka_config=KafkaConfigHook(kafka_config_id=self.kafka_config_id).client_config())
        reports = control.health_all(self.jobs)
        for r in reports:
            self.log.info(
                "%s: running=%s pid=%s state=%s batch=%s lag=%s rate=%s rows/s last=%s",
                r.job, r.running, r.pid, r.state, r.committed_batch, r.total_lag,
                r.processed_rows_per_second, r.last_progress_at,
            )
        failed = [f"{r.job}: {r.error or 'failed'}" for r in reports if r.state == "failed" and not r.running]
        if failed:
            raise RuntimeError("unhealthy Spark jobs:\n" + "\n".join(failed))
        waiting = [
            r.job for r in reports if self.streaming_mode == "continuous" and (not r.running or r.committed_batch is None)
        ]
        if waiting:
            self.log.info("waiting for a committed batch of %s", ", ".join(waiting))
            return False
        return PokeReturnValue(is_done=True, xcom_value=[r.as_dict() for r in reports])


class SparkStreamingStopOperator(BaseOperator):
    """Stop jobs between micro-batches (killed after ``timeout``); returns which ones were running.

    :param jobs: job names.
    :param timeout: seconds to wait for a clean stop per job.
    """

    def __init__(self, *, jobs: Sequence[str], timeout: float = 60.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.jobs = list(jobs)
        self.timeout = timeout

    def execute(self, context: Context) -> dict[str, bool]:
        from streamstack.spark.control import SparkJobControl

        control = SparkJobControl()
        return {job: control.stop(job, timeout=self.timeout) for job in self.jobs}
