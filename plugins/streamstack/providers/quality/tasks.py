"""The body of the ``purchases_quality`` task: read a window, validate it, report, decide.

A task helper rather than an operator: the DAG calls it from a ``@task`` so GX is imported only
when the task runs, never while the DAG is parsed. Outcomes map onto task states:

- passed (with or without warnings): success, summary as the return value (XCom);
- critical failure: ``AirflowFailException`` (no retry: the same data would fail again), with
  every failed expectation and sample rows in the log;
- empty window: ``AirflowSkipException``, so "nothing to check" is neither green nor red.

The summary is pushed under the XCom key ``quality_summary`` in every case, before raising.
Infrastructure errors (broker or Pinot unreachable) raise normally, so the task's retries apply.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from streamstack.quality.docs_page import data_docs_url

log = logging.getLogger(__name__)

SUMMARY_KEY = "quality_summary"
SOURCES = ("pinot", "kafka")


def check_purchases_enriched(
    *,
    source: str,
    window_end: datetime,
    window_minutes: float,
    run_id: str,
    ti: Any = None,
    max_age_hours: float | None = None,
    kafka_config_id: str = "kafka_default",
    pinot_controller_conn_id: str = "pinot_controller_default",
    pinot_broker_conn_id: str = "pinot_broker_default",
) -> dict[str, Any]:
    """Validate enriched purchases of ``[window_end - window_minutes, window_end)`` from ``source``.

    :param ti: the task instance, for pushing the summary before a failure or skip.
    :return: the summary dict (JSON-safe).
    """
    from streamstack.providers.logs import apply_namespace_levels

    apply_namespace_levels()  # before GX is imported: its INFO flood stays out of the task log
    from streamstack import quality as q

    if source not in SOURCES:
        raise AirflowFailException(f"param source={source!r}: must be one of {SOURCES}")
    if not window_minutes or float(window_minutes) <= 0:
        raise AirflowFailException(f"param window_minutes={window_minutes!r}: must be a positive number")
    start, end = q.window_ending(window_end, timedelta(minutes=float(window_minutes)))
    volume = None
    log.info("checking %s enriched purchases in [%s, %s)", source, start.isoformat(), end.isoformat())
    if source == "kafka":
        from streamstack.providers.kafka.hooks import KafkaConfigHook
        from streamstack.topics import topic_name

        config = KafkaConfigHook(kafka_config_id=kafka_config_id).client_config()
        batch = q.read_kafka_window(config, topic_name("purchases_enriched"), start, end)
    else:
        from streamstack.providers.pinot.hooks import PinotRestHook

        client = PinotRestHook(
            pinot_controller_conn_id=pinot_controller_conn_id, pinot_broker_conn_id=pinot_broker_conn_id
        ).get_client()
        batch = q.read_pinot_window(client, start, end)
        # By event time, so the shop's profile applies (a Kafka window is by publishing time).
        from streamstack.quality.volume import pinot_volume_expectation

        volume = pinot_volume_expectation(client, start, end)

    summary = q.QualityRunner().check(
        batch,
        run_id=q.new_run_id(f"{source}-{run_id}"),
        options=q.CheckOptions(reference_time=end, max_age_hours=max_age_hours, volume=volume),
    )
    result = summary.to_dict()
    if summary.results_dir and getattr(ti, "dag_id", None):
        from streamstack.quality.docs_page import write_index

        airflow = {"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id,
                   "try_number": getattr(ti, "try_number", None)}
        write_index(Path(summary.results_dir).parent, airflow, summary.results_dir)
        result["data_docs_url"] = data_docs_url(ti.dag_id, ti.run_id, ti.task_id)
    for line in summary.lines(max_rows=20):
        (log.error if summary.status == "failed" else log.info)("%s", line)
    if ti is not None:
        ti.xcom_push(key=SUMMARY_KEY, value=result)
    if summary.status == "failed":
        names = ", ".join(f.name for f in summary.critical_failures)
        raise AirflowFailException(
            f"data quality gate failed: {len(summary.critical_failures)} critical expectation(s) on "
            f"{summary.rows_checked} rows: {names}. Data Docs: {summary.data_docs}"
        )
    if summary.status == "empty":
        raise AirflowSkipException(f"no enriched purchases in {batch.source}: nothing to check")
    if result.get("data_docs_url"):
        log.info("Data Docs: the 'Data Docs' link on the task's Details tab, or %s on the Airflow UI", result["data_docs_url"])
    elif summary.data_docs:
        log.info("Data Docs: file://%s", summary.data_docs)
    return result
