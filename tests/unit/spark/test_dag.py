"""Structure of the spark_streaming DAG: modes, branches, assets, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[3]


def test_dag_wiring() -> None:
    from airflow.models import DagBag

    bag = DagBag(dag_folder=str(PROJECT / "dags" / "spark_streaming.py"))
    assert bag.import_errors == {}
    dag = bag.dags["spark_streaming"]
    assert dag.params["mode"] == "available-now"
    assert {t.task_id for t in dag.tasks} == {
        "choose_mode", "purchases_enrichment", "running_totals", "sales_windows",
        "start_continuous", "health", "stop_continuous",
    }
    down = {t.task_id: {d.task_id for d in t.downstream_list} for t in dag.tasks}
    jobs = {"purchases_enrichment", "running_totals", "sales_windows"}
    assert down["choose_mode"] == jobs | {"start_continuous", "health", "stop_continuous"}
    assert all(down[job] == set() for job in jobs)  # side by side
    choose = dag.get_task("choose_mode").python_callable
    assert choose(params={"mode": "available-now"}) == ["purchases_enrichment", "running_totals", "sales_windows"]
    assert down["start_continuous"] == {"health"}
    enrich = dag.get_task("purchases_enrichment")
    assert [a.name for a in enrich.outlets] == ["streamstack.topics.purchases_enriched"]
    assert enrich.conn_id == "spark_default" and enrich.kafka_config_id == "kafka_default"
    for task in dag.tasks:
        assert task.owner == "streamstack" and task.retries == 2
    assert dag.tags and dag.doc_md


@pytest.mark.parametrize(
    ("conn", "master"),
    [
        ({"conn_type": "spark", "host": "local[*]"}, "local[*]"),
        ({"conn_type": "spark", "host": "spark://spark-master", "port": 7077}, "spark://spark-master:7077"),
    ],
)
def test_continuous_jobs_run_on_the_connections_master(monkeypatch, conn: dict, master: str) -> None:
    """Continuous jobs go where ``SparkSubmitOperator`` sends the available-now ones (compose: the cluster)."""
    import json

    from streamstack.providers.spark.operators import SparkStreamingStartOperator, spark_master

    monkeypatch.setenv("AIRFLOW_CONN_SPARK_UNDER_TEST", json.dumps(conn))
    assert spark_master("spark_under_test") == master

    started: dict[str, str] = {}

    class FakeControl:
        def __init__(self, *, kafka_config: dict) -> None:
            assert kafka_config["bootstrap.servers"]

        def start(self, job: str, *, interval: str, master: str) -> int:
            started[job] = master
            return 4242

        def log_file(self, job: str) -> str:
            return f"/tmp/{job}.log"

    monkeypatch.setattr("streamstack.spark.control.SparkJobControl", FakeControl)
    op = SparkStreamingStartOperator(task_id="start", jobs=["running_totals"], conn_id="spark_under_test")
    assert op.execute({}) == {"running_totals": 4242}
    assert started == {"running_totals": master}
