"""One operator for every engine's jobs, thin over ``streamstack.engines``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from streamstack.providers.engines.hooks import FLINK_DEFAULT, KAFKA_DEFAULT, KSTREAMS_DEFAULT, SPARK_DEFAULT

ACTIONS = ("submit", "stop", "status", "reset")
MODES = ("bounded", "continuous")
#: Every engine runs these jobs.
JOBS = ("purchases_enrichment", "running_totals", "sales_windows")


def as_list(value: Any) -> list[str]:
    """A templated list arrives as a list, or rendered as text (``"['a', 'b']"``, ``"a,b"``)."""
    if isinstance(value, str):
        return [v.strip(" '\"") for v in value.strip("[]").split(",") if v.strip(" '\"")]
    return [str(v) for v in value]


def as_bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes")


class EngineTaskMixin:
    """What the operator and the sensor share: the engine, the jobs and the connections."""

    engine: str
    jobs: Any
    kafka_config_id: str
    spark_conn_id: str
    flink_conn_id: str
    kstreams_conn_id: str

    def connections(self) -> dict[str, str]:
        return {"kafka_config_id": self.kafka_config_id, "spark_conn_id": self.spark_conn_id,
                "flink_conn_id": self.flink_conn_id, "kstreams_conn_id": self.kstreams_conn_id}

    def job_names(self) -> list[str]:
        from streamstack.engines import check_jobs
        from streamstack.errors import ConfigError

        try:
            return check_jobs(as_list(self.jobs))
        except ConfigError as exc:
            raise AirflowFailException(f"param jobs: {exc}") from None

    def stream_engine(self) -> Any:
        from streamstack.errors import ConfigError
        from streamstack.providers.engines.hooks import engine_from_connections

        try:
            return engine_from_connections(self.engine or None, **self.connections())
        except ConfigError as exc:
            raise AirflowFailException(f"param engine: {exc}") from None


ENGINE_FIELDS = ("engine", "jobs", "kafka_config_id", "spark_conn_id", "flink_conn_id", "kstreams_conn_id")


class StreamJobOperator(EngineTaskMixin, BaseOperator):
    """One action on jobs of one engine; returns (XCom) each job's status after it.

    - ``submit``: start each job, ``mode`` ``bounded`` (what the inputs hold now, then finish) or
      ``continuous`` (until stopped), from where it stopped (``resume``) or from the inputs' start.
      Returns at once: :class:`~streamstack.providers.engines.sensors.StreamJobSensor` waits.
    - ``stop``: stop so that the job resumes losslessly (Flink: with a savepoint).
    - ``status``: state, lag per input partition, last commit.
    - ``reset``: delete what makes a stopped job resume (checkpoint, savepoint, offsets).

    A job another engine writes the topics of is refused, naming it and the command to stop it.

    :param engine: ``spark``, ``flink`` or ``kstreams``; empty: ``STREAMSTACK_ENGINE`` (templated).
    :param jobs: job names (templated; default all three).
    :param action: ``submit``, ``stop``, ``status`` or ``reset`` (templated).
    :param mode: ``bounded`` or ``continuous``, for ``submit`` (templated).
    :param resume: ``submit`` only: continue from the job's checkpoint or savepoint (templated).
    :param allow_shrink: rebuild all-time totals even from a purchases topic that retention has
        trimmed, accepting smaller totals (``streamstack.engines.rebuild``; templated).
    :param kafka_config_id: Kafka connection every engine reads and writes through (templated).
    :param spark_conn_id: Spark connection (master) (templated).
    :param flink_conn_id: Flink REST API connection (templated).
    :param kstreams_conn_id: Kafka Streams connection (HTTP port, threads) (templated).
    """

    template_fields: Sequence[str] = (*ENGINE_FIELDS, "action", "mode", "resume", "allow_shrink")

    def __init__(
        self,
        *,
        engine: str = "",
        jobs: Sequence[str] | str = JOBS,
        action: str = "submit",
        mode: str = "bounded",
        resume: bool | str = True,
        allow_shrink: bool | str = False,
        kafka_config_id: str = KAFKA_DEFAULT,
        spark_conn_id: str = SPARK_DEFAULT,
        flink_conn_id: str = FLINK_DEFAULT,
        kstreams_conn_id: str = KSTREAMS_DEFAULT,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.engine, self.jobs, self.action, self.mode, self.resume = engine, jobs, action, mode, resume
        self.allow_shrink = allow_shrink
        self.kafka_config_id, self.spark_conn_id = kafka_config_id, spark_conn_id
        self.flink_conn_id, self.kstreams_conn_id = flink_conn_id, kstreams_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        from streamstack.engines import Mode, reset_jobs

        if self.action not in ACTIONS:
            raise AirflowFailException(f"param action={self.action!r}: must be one of {', '.join(ACTIONS)}")
        if self.action == "submit" and self.mode not in MODES:
            raise AirflowFailException(f"param mode={self.mode!r}: must be one of {', '.join(MODES)}")
        jobs, engine = self.job_names(), self.stream_engine()
        self.log.info("%s: %s %s", engine.name, self.action, ", ".join(jobs))
        if self.action == "submit":
            runs = self._starting_points(engine, jobs) if self.mode == "bounded" else {}
            statuses = engine.submit(jobs, Mode(self.mode), resume=as_bool(self.resume),
                                     allow_shrink=as_bool(self.allow_shrink))
            out = {job: {**s.as_dict(), **({"run": runs[job]} if job in runs else {})} for job, s in statuses.items()}
            for status in statuses.values():
                self.log.info("%s", status.line())
            return out
        elif self.action == "reset":
            deleted = reset_jobs(engine, jobs, allow_shrink=as_bool(self.allow_shrink))
            for job, what in deleted.items():
                self.log.info("%s: deleted %s", job, ", ".join(what) or "nothing (no state)")
            return deleted
        else:
            statuses = {job: (engine.stop if self.action == "stop" else engine.status)(job) for job in jobs}
        for status in statuses.values():
            self.log.info("%s", status.line())
        return {job: s.as_dict() for job, s in statuses.items()}

    def _starting_points(self, engine: Any, jobs: list[str]) -> dict[str, dict[str, Any]]:
        """What each bounded run has to read, and its outputs' end offsets, before it starts: the
        sensor reports what the run did from these (``streamstack.engines.report``)."""
        from streamstack.engines.report import output_offsets

        runs = {}
        for job in jobs:
            to_read = engine.status(job).lag.total
            runs[job] = {"to_read": to_read,
                         "outputs_before": output_offsets(engine.kafka_config, engine.topic_names, job)}
            self.log.info("%s: %s input records to read", job, f"{to_read:,}")
        return runs
