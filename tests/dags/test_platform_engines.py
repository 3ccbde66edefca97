"""streaming_platform's engines: the branch, each engine's tasks' wiring and their Kafka connection.

A real run of the whole chain is ``make demo ENGINE=flink|kstreams`` (docs/services/); it needs
Airflow, Kafka, the engine, Pinot and Superset up, minutes on this box, so this tier checks the
DAG's side of it: the engine param sends the run to that engine's tasks, Pinot and the quality
gate wait for them, and each engine's operator takes Kafka from ``kafka_default``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from streamstack.errors import ConfigError

SPARK_JOBS = ["purchases_enrichment", "running_totals", "sales_windows"]
DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "streaming_platform.py"


@pytest.fixture(scope="module")
def dag():
    from airflow.models import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["streaming_platform"]


@pytest.mark.parametrize(("param", "env", "expected"), [
    ("flink", None, ["flink_jobs"]), (None, "flink", ["flink_jobs"]), ("spark", "flink", SPARK_JOBS),
    (None, None, SPARK_JOBS), ("kstreams", None, ["kstreams_jobs"]), (None, "kstreams", ["kstreams_jobs"]),
    ("kstreams", "flink", ["kstreams_jobs"]),
])
def test_the_engine_param_or_setting_picks_the_branch(dag, monkeypatch: pytest.MonkeyPatch, param, env,
                                                       expected) -> None:
    if env:
        monkeypatch.setenv("STREAMSTACK_ENGINE", env)
    else:
        monkeypatch.delenv("STREAMSTACK_ENGINE", raising=False)
    branch = dag.get_task("choose_engine")
    assert branch.python_callable(params={"engine": param}) == expected


@pytest.mark.parametrize(("param", "env"), [("storm", None), (None, "storm")])
def test_an_engine_without_platform_tasks_fails_the_branch_never_runs_another(
        dag, monkeypatch: pytest.MonkeyPatch, param, env) -> None:
    if env:
        monkeypatch.setenv("STREAMSTACK_ENGINE", env)
    else:
        monkeypatch.delenv("STREAMSTACK_ENGINE", raising=False)
    with pytest.raises(ConfigError, match="engine"):
        dag.get_task("choose_engine").python_callable(params={"engine": param})


def test_pinot_and_the_gate_wait_for_the_flink_jobs(dag) -> None:
    flink_jobs, flink_wait = dag.get_task("flink_jobs"), dag.get_task("flink_wait")
    assert flink_jobs.action == "bounded" and flink_wait.action == "bounded"
    assert set(flink_jobs.jobs) == {"purchases_enrichment", "running_totals", "sales_windows"}
    assert flink_jobs.kafka_config_id == "kafka_default"
    assert "wait_ingested" in flink_wait.downstream_task_ids
    assert [a.name for a in flink_wait.outlets] == ["streamstack.topics.purchases_enriched"]
    assert dag.get_task("wait_ingested").trigger_rule == "none_failed_min_one_success"


def test_pinot_tables_are_applied_while_either_engine_works(dag) -> None:
    # Downstream of the branch it would be skipped; after the jobs it waited for them.
    assert dag.get_task("apply_pinot_tables").upstream_task_ids == {"generate_sales"}


def test_the_spark_jobs_run_side_by_side_and_ingestion_waits_for_all(dag) -> None:
    for job in SPARK_JOBS:
        assert dag.get_task(job).upstream_task_ids == {"choose_engine"}, job
    assert set(SPARK_JOBS) | {"flink_wait", "apply_pinot_tables"} <= dag.get_task("wait_ingested").upstream_task_ids


def test_the_kafka_streams_apps_run_side_by_side_and_ingestion_waits_for_them(dag) -> None:
    """All three apps (the windows too: Kafka Streams is an engine of the platform now)."""
    task = dag.get_task("kstreams_jobs")
    assert task.app == "all" and task.kafka_config_id == "kafka_default"
    assert task.upstream_task_ids == {"choose_engine"}
    assert "wait_ingested" in task.downstream_task_ids
    assert [a.name for a in task.outlets] == ["streamstack.topics.purchases_enriched"]
    from streamstack.kstreams.apps import APPS

    assert set(APPS) == {"purchases_enrichment", "running_totals", "sales_windows"}
