"""The live pipeline's supervisor as an Airflow task, thin over ``streamstack.live``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from streamstack.providers.engines.hooks import FLINK_DEFAULT, KAFKA_DEFAULT, KSTREAMS_DEFAULT, SPARK_DEFAULT
from streamstack.providers.engines.operators import ENGINE_FIELDS, JOBS, EngineTaskMixin, as_bool
from streamstack.providers.pinot.hooks import PINOT_BROKER_DEFAULT, PinotRestHook


class LiveSupervisorOperator(EngineTaskMixin, BaseOperator):
    """One check of the live pipeline: restart what stopped, fail on what passed its bound.

    Each job of the engine the pipeline runs on (``streamstack live start`` records it; ``engine``
    overrides) is checked for health and lag; Pinot's ``purchasesEnriched`` for freshness and the
    dead-letter rate over the last window, against ``config/live.yaml``. A job that is not
    running is submitted again from its checkpoint or savepoint (``restart``); a crash loop, or a
    value past its bound, fails the task with every reason (no retry: the next check is the retry).
    Skipped while the pipeline is not live.

    :param engine: ``spark``, ``flink`` or ``kstreams``; empty: the live pipeline's (templated).
    :param jobs: the jobs to check (templated; default ``config/live.yaml``'s).
    :param restart: restart a job that is not running (templated).
    :param pinot_conn_id: Pinot controller connection; the broker's is ``pinot_broker_conn_id``.
    """

    template_fields: Sequence[str] = (*ENGINE_FIELDS, "restart", "pinot_conn_id", "pinot_broker_conn_id")

    def __init__(
        self,
        *,
        engine: str = "",
        jobs: Sequence[str] | str = (),
        restart: bool | str = True,
        kafka_config_id: str = KAFKA_DEFAULT,
        spark_conn_id: str = SPARK_DEFAULT,
        flink_conn_id: str = FLINK_DEFAULT,
        kstreams_conn_id: str = KSTREAMS_DEFAULT,
        pinot_conn_id: str = PinotRestHook.default_conn_name,
        pinot_broker_conn_id: str = PINOT_BROKER_DEFAULT,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("retries", 0)
        super().__init__(**kwargs)
        self.engine, self.jobs, self.restart = engine, jobs, restart
        self.kafka_config_id, self.spark_conn_id = kafka_config_id, spark_conn_id
        self.flink_conn_id, self.kstreams_conn_id = flink_conn_id, kstreams_conn_id
        self.pinot_conn_id, self.pinot_broker_conn_id = pinot_conn_id, pinot_broker_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        from streamstack import live

        store = live.default_store()
        record = live.live_record(store)
        if record is None:
            raise AirflowSkipException("the live pipeline is not running (`streamstack live start` starts it)")
        self.engine = self.engine or record.get("engine", "")
        config = live.default_config()
        engine = self.stream_engine()
        jobs = self.job_names() if self.jobs else list(config.jobs)
        pinot = PinotRestHook(self.pinot_conn_id, self.pinot_broker_conn_id).get_client()
        result = live.supervise(engine, pinot, live.table_specs(engine.kafka_config), config, store,
                                restart=as_bool(self.restart), jobs=jobs, live_since=live.live_since(record))
        for line in result.lines():
            self.log.info("%s", line)
        try:
            result.raise_if_unhealthy()
        except live.LiveUnhealthy as exc:
            raise AirflowFailException(str(exc)) from None
        return {"engine": engine.name, "restarted": result.restarted, "findings": result.lines()}


__all__ = ["JOBS", "LiveSupervisorOperator"]
