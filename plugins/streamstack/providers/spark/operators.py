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
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowSkipException


def _ensure_spark_submit_on_path() -> None:
    """The hook runs plain ``spark-submit``: make the one beside this Python (the venv's) findable."""
    if shutil.which("spark-submit") is None:
        os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


class SparkStreamingJobOperator(SparkSubmitOperator):
    """Submit one streamstack Spark job available-now: process what the topics hold, then finish.

    :param job: job name (``purchases_enrichment``, ``running_totals``, ``sales_windows``).
    :param bootstrap_servers: Kafka bootstrap servers for the job (default: the stack settings).
    Other arguments are those of ``SparkSubmitOperator``; ``conf`` entries override the defaults.
    """

    def __init__(
        self, *, job: str, bootstrap_servers: str | None = None, wait_for_other: float = 1800.0, **kwargs: Any
    ) -> None:
        kwargs.setdefault("name", f"streamstack-{job}")
        super().__init__(application="", **kwargs)
        self.job = job
        self.wait_for_other = wait_for_other
        self.bootstrap_servers = bootstrap_servers

    def execute(self, context: Context) -> None:
        from streamstack.spark.control import SparkJobControl
        from streamstack.spark.jobs import submission

        control = SparkJobControl()
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
        sub = submission(self.job, control.settings, trigger="available-now", bootstrap_servers=self.bootstrap_servers)
        self.application = sub.application
        self.application_args = sub.application_args
        self.jars = ",".join(sub.jars)
        self.py_files = ",".join(sub.py_files)
        self.conf = {**sub.conf, **(self.conf or {})}
        self.env_vars = {**sub.env, **(self.env_vars or {})}
        self._hook = None  # built from the fields above
        _ensure_spark_submit_on_path()
        super().execute(context)


def spark_master(conn_id: str) -> str:
    """The master URL of a Spark connection, read the way ``SparkSubmitHook`` reads it.

    Its resolution (``spark://host:port``, ``local[*]``, ``k8s://...``, URI vs UI connections) is
    the provider's; reusing it keeps continuous jobs on the same cluster as submitted ones.
    """
    from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook

    return SparkSubmitHook(conn_id=conn_id)._connection["master"]


class SparkStreamingStartOperator(BaseOperator):
    """Start jobs long-running (processing-time trigger), keeping running copies; returns their pids.

    :param jobs: job names.
    :param interval: processing-time trigger interval, e.g. ``"1 second"``.
    :param conn_id: Spark connection whose master runs the jobs (as for ``SparkSubmitOperator``).
    :param master: explicit Spark master; overrides the connection.
    """

    template_fields: Sequence[str] = ("interval", "master")

    def __init__(
        self,
        *,
        jobs: Sequence[str],
        interval: str = "1 second",
        conn_id: str = "spark_default",
        master: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.jobs = list(jobs)
        self.interval = interval
        self.conn_id = conn_id
        self.master = master

    def execute(self, context: Context) -> dict[str, int]:
        from streamstack.spark.control import SparkJobControl

        _ensure_spark_submit_on_path()
        master = self.master or spark_master(self.conn_id)
        control = SparkJobControl()
        pids = {}
        for job in self.jobs:
            pids[job] = control.start(job, interval=self.interval, master=master)
            self.log.info("%s running: driver pid %s, log %s", job, pids[job], control.log_file(job))
        return pids


class SparkStreamingHealthOperator(BaseOperator):
    """Report each job's progress and lag; in continuous mode, wait for a committed batch of each.

    :param jobs: job names.
    :param mode: ``continuous`` requires every job to run and commit a batch within ``timeout``;
        any other value only reports (and fails on a job whose last run failed).
    :param timeout: seconds to wait for progress in continuous mode.
    """

    template_fields: Sequence[str] = ("mode",)

    def __init__(self, *, jobs: Sequence[str], mode: str = "status", timeout: float = 300.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.jobs = list(jobs)
        self.mode = mode
        self.timeout = timeout

    def execute(self, context: Context) -> list[dict[str, Any]]:
        from streamstack.spark.control import SparkJobControl

        control = SparkJobControl()
        deadline = time.monotonic() + (self.timeout if self.mode == "continuous" else 0)
        while True:
            reports = control.health_all(self.jobs)
            waiting = [r.job for r in reports if self.mode == "continuous" and (not r.running or r.committed_batch is None)]
            if not waiting or time.monotonic() >= deadline:
                break
            time.sleep(5)
        for r in reports:
            self.log.info(
                "%s: running=%s pid=%s state=%s batch=%s lag=%s rate=%s rows/s last=%s",
                r.job, r.running, r.pid, r.state, r.committed_batch, r.total_lag,
                r.processed_rows_per_second, r.last_progress_at,
            )
        failed = [f"{r.job}: {r.error or 'failed'}" for r in reports if r.state == "failed" and not r.running]
        if waiting:
            failed += [f"{job}: not running or no committed batch after {self.timeout:.0f}s" for job in waiting]
        if failed:
            raise RuntimeError("unhealthy Spark jobs:\n" + "\n".join(failed))
        return [r.as_dict() for r in reports]


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
