"""streaming_platform and stream_jobs run any engine through one operator family.

A real run of the whole chain is ``make demo ENGINE=flink|kstreams`` (tests/e2e); this tier
checks the DAGs' side of it: the engine param (else ``STREAMSTACK_ENGINE``) builds that engine's
adapter through the protocol, from the connections, and Pinot and the quality gate wait for the
jobs to finish.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from streamstack import engines

DAGS = Path(__file__).resolve().parents[2] / "dags"
CONNECTIONS = {
    "KAFKA_DEFAULT": {"conn_type": "kafka", "extra": {"bootstrap.servers": "kafka.example:9092"}},
    "SPARK_DEFAULT": {"conn_type": "spark", "host": "spark://spark-master", "port": 7077},
    "FLINK_DEFAULT": {"conn_type": "flink", "host": "flink.example", "port": 18081},
    "KSTREAMS_DEFAULT": {"conn_type": "kstreams", "host": "127.0.0.1", "port": 27070, "extra": {"threads": 2}},
}


def _dag(name: str):
    from airflow.models import DagBag

    bag = DagBag(dag_folder=str(DAGS / f"{name}.py"))
    assert bag.import_errors == {}
    return bag.dags[name]


@pytest.fixture(scope="module")
def platform():
    return _dag("streaming_platform")


@pytest.fixture(scope="module")
def jobs_dag():
    return _dag("stream_jobs")


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, conn in CONNECTIONS.items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{name}", json.dumps(conn))


@pytest.mark.parametrize(("param", "env", "expected"), [
    ("flink", None, "flink"), (None, "flink", "flink"), ("spark", "flink", "spark"), (None, None, "spark"),
    ("kstreams", None, "kstreams"), (None, "kstreams", "kstreams"), ("kstreams", "flink", "kstreams"),
])
def test_the_engine_param_or_setting_picks_the_engine(platform, connections, monkeypatch: pytest.MonkeyPatch,
                                                      param, env, expected) -> None:
    if env:
        monkeypatch.setenv("STREAMSTACK_ENGINE", env)
    else:
        monkeypatch.delenv("STREAMSTACK_ENGINE", raising=False)
    task = copy.copy(platform.get_task("stream_jobs"))
    task.engine = task.render_template(task.engine, {"params": {"engine": param}})
    assert task.stream_engine().name == expected


def test_each_engine_is_configured_by_its_connection(platform, connections) -> None:
    task = copy.copy(platform.get_task("stream_jobs"))
    task.engine = "spark"
    spark = task.stream_engine()
    assert spark.master == "spark://spark-master:7077"
    assert spark.control.kafka_config["bootstrap.servers"] == "kafka.example:9092"
    task.engine = "flink"
    flink = task.stream_engine()
    assert flink.control.rest.url == "http://flink.example:18081"
    assert flink.control.cfg.rest_address == "flink.example:18081"  # `flink run -m` goes there too
    task.engine = "kstreams"
    kstreams = task.stream_engine()
    assert kstreams.threads == 2 and kstreams.control.ports["running_totals"] == 27070
    assert kstreams.control.ports["sales_windows"] == 27072


@pytest.mark.parametrize("param", ["storm", "spark; rm -rf /"])
def test_an_unknown_engine_fails_the_task_without_retry(platform, connections, param) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    task = copy.copy(platform.get_task("stream_jobs"))
    task.engine = param
    with pytest.raises(AirflowFailException, match="param engine"):
        task.stream_engine()


def test_pinot_and_the_gate_wait_for_the_jobs_to_finish(platform) -> None:
    submit, done = platform.get_task("stream_jobs"), platform.get_task("stream_jobs_done")
    assert (submit.action, submit.mode, done.wait_for) == ("submit", "bounded", "bounded")
    assert engines.check_jobs(submit.jobs) == list(engines.JOBS)
    assert done.upstream_task_ids == {"stream_jobs"} and done.deferrable
    assert platform.get_task("wait_ingested").upstream_task_ids == {"stream_jobs_done", "apply_pinot_tables"}
    assert [a.name for a in done.outlets] == ["streamstack.topics.purchases_enriched"]
    # Tables are applied while the engine works, not after it.
    assert platform.get_task("apply_pinot_tables").upstream_task_ids == {"generate_sales"}


def test_stream_jobs_acts_then_waits_for_a_submission_only(jobs_dag) -> None:
    act, wait = jobs_dag.get_task("act"), jobs_dag.get_task("wait")
    assert wait.upstream_task_ids == {"act"}
    assert jobs_dag.params["engine"] == "" and jobs_dag.params["action"] == "submit"
    assert jobs_dag.params["jobs"] == list(engines.JOBS) and jobs_dag.params["resume"] is True
    rendered = {action: wait.render_template(wait.wait_for, {"params": {"action": action, "mode": "continuous"}})
                for action in ("submit", "stop", "status", "reset")}
    assert rendered == {"submit": "continuous", "stop": "none", "status": "none", "reset": "none"}
    assert "streamstack.topics.purchases" in str(jobs_dag.timetable.asset_condition)
    assert act.template_fields and {"engine", "jobs", "action", "mode", "resume", "kafka_config_id"} <= set(
        act.template_fields)


def test_the_platform_run_triggers_no_second_run_of_the_stream_jobs(platform, jobs_dag) -> None:
    """stream_jobs is scheduled on the purchases Asset: were the platform's batch to update it, a
    stream_jobs run on the default engine would start beside the platform's own engine run, and
    the two would race for the output topics (CI: Spark's claim refused `ENGINE=kstreams`)."""
    assert "streamstack.topics.purchases" in str(jobs_dag.timetable.asset_condition)
    emitted = {a.name for t in platform.tasks for a in t.outlets}
    assert "streamstack.topics.purchases" not in emitted, f"streaming_platform emits {emitted}"
