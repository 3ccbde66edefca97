"""The other engines through the product's own entry points: `streamstack demo` with Flink and with
Kafka Streams, the Flink control path (the `stream_jobs` DAG and the `streamstack flink` CLI), a
bounded Kafka Streams run through `stream_jobs`.

Runs last in the e2e tier (``tests/e2e/conftest.py`` orders it): these engines write the shared
output topics whose exact counts the Spark runs before it assert.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request

import pytest
from support.platform import pinot_count, run_dag, streamstack

from streamstack.airflow_client import AirflowClient
from streamstack.settings import Settings
from streamstack.stack import Stack


def task_states(airflow: AirflowClient, dag_id: str, run_id: str) -> dict[str, str | None]:
    return {ti.task_id: ti.state for ti in airflow.task_states(dag_id, run_id)}


@pytest.mark.timeout(1800)
def test_demo_with_engine_flink_counts_exactly(airflow: AirflowClient) -> None:
    """`make demo ENGINE=flink` is `STREAMSTACK_ENGINE=flink streamstack demo`: Flink does the stream work."""
    before = pinot_count("purchasesEnriched")
    out = streamstack("demo", "--transactions", "40", "--mode", "load", "--no-live", env={"STREAMSTACK_ENGINE": "flink"})
    run_id = re.search(r"==> Running streaming_platform \((\S+)\)", out).group(1)
    states = task_states(airflow, "streaming_platform", run_id)
    assert states["stream_jobs"] == states["stream_jobs_done"] == "success", states
    done = airflow.xcom("streaming_platform", run_id, "stream_jobs_done")
    assert {(s["engine"], s["state"]) for s in done.values()} == {("flink", "FINISHED")}, done
    generated = airflow.xcom("streaming_platform", run_id, "summary")["generated"]["purchases"]
    assert pinot_count("purchasesEnriched") == before + generated
    accounted = airflow.xcom("streaming_platform", run_id, "batch_accounted")
    assert accounted["complete"] and accounted["enriched"] == generated, accounted
    assert f"generated   40 transactions, {generated} purchase lines" in out, out[-3000:]
    assert "quality gate: PASSED" in out, out[-3000:]


def test_the_engine_connections_have_forms_and_a_working_test_button(airflow: AirflowClient, platform: Stack) -> None:
    """What the UI's connection form asks the API for: the field labels, and the Test button's answer."""
    from urllib.parse import urlsplit

    from streamstack.flink.config import FlinkConfig

    airflow.request("GET", "/version")  # logged in: the UI's own API takes the same token
    answer = airflow.session.get(f"{airflow.base_url}/ui/connections/hook_meta", timeout=60)
    assert answer.status_code == 200, answer.text[:500]
    meta = {m["connection_type"]: m for m in answer.json()}
    assert meta["flink"]["hook_name"] == "Apache Flink (REST API)", meta.get("flink")
    fields = meta["flink"]["standard_fields"]
    assert fields["host"]["title"] == "JobManager host" and fields["login"]["hidden"], meta["flink"]
    assert meta["kstreams"]["hook_name"] == "Kafka Streams apps", meta.get("kstreams")
    rest = urlsplit(FlinkConfig.from_env(platform.settings).rest_url)
    tested = airflow.request("POST", "/connections/test", json={
        "connection_id": "flink_under_test", "conn_type": "flink", "host": rest.hostname, "port": rest.port})
    assert tested["status"] is True and tested["message"].startswith("Flink 2.2"), tested


@pytest.mark.timeout(1800)
def test_stream_jobs_and_the_engine_cli_stop_flink_with_a_savepoint_and_resume_from_it(
    airflow: AirflowClient, platform: Stack
) -> None:
    """Continuous through stream_jobs, stopped with a savepoint through the CLI, resumed from it by the DAG."""
    from streamstack.flink.config import FlinkConfig
    from streamstack.flink.rest import FlinkRest

    rest = FlinkRest(FlinkConfig.from_env(platform.settings).rest_url)
    one = {"engine": "flink", "jobs": ["running_totals"]}
    run_dag(airflow, "stream_jobs", {**one, "action": "submit", "mode": "continuous"}, timeout=900)
    out = streamstack("engine", "status", "--engine", "flink", "--json", "running_totals")
    (status,) = json.JSONDecoder().raw_decode(out[out.index("["):])[0]
    assert status["state"] == "RUNNING" and status["mode"] == "continuous", status
    stopped = streamstack("engine", "stop", "--engine", "flink", "running_totals")
    savepoint = re.search(r"flink running_totals: STOPPED, .*savepoint=([^,\s]+)", stopped).group(1)
    assert not rest.running("streamstack.running_totals")
    try:
        run_dag(airflow, "stream_jobs", {**one, "action": "submit", "mode": "continuous"}, timeout=900)
        (job,) = rest.running("streamstack.running_totals")
        restored = (rest.checkpoints(job["jid"]).get("latest") or {}).get("restored") or {}
        assert restored.get("is_savepoint") and restored.get("external_path", "").rstrip("/").endswith(
            savepoint.rstrip("/").rsplit("/", 1)[-1]), (restored, savepoint)
    finally:
        run_dag(airflow, "stream_jobs", {**one, "action": "stop"}, timeout=900)
    assert not rest.running("streamstack.running_totals")


@pytest.mark.timeout(900)
def test_stream_jobs_runs_the_kafka_streams_totals_bounded_and_reports_it(airflow: AirflowClient) -> None:
    """A bounded run of the running totals through Airflow (the wait deferred to the triggerer),
    then the status action on it."""
    settings = Settings.from_env()
    from streamstack.topics import load_topics
    from streamstack.topics.offsets import end_offsets

    topic = load_topics(settings.topics_file)["running_totals"].name
    before = sum(end_offsets(settings.kafka_client_config(), topic).values())
    one = {"engine": "kstreams", "jobs": ["running_totals"]}
    run_id = run_dag(airflow, "stream_jobs", {**one, "action": "submit", "mode": "bounded"}, timeout=600)
    assert task_states(airflow, "stream_jobs", run_id) == {"act": "success", "wait": "success"}
    finished = airflow.xcom("stream_jobs", run_id, "wait")["running_totals"]
    assert (finished["engine"], finished["state"], finished["lag"]["total"]) == ("kstreams", "FINISHED", 0), finished
    assert sum(end_offsets(settings.kafka_client_config(), topic).values()) > before
    status_run = run_dag(airflow, "stream_jobs", {**one, "action": "status"}, timeout=300)
    assert task_states(airflow, "stream_jobs", status_run) == {"act": "success", "wait": "skipped"}
    assert airflow.xcom("stream_jobs", status_run, "act")["running_totals"]["state"] == "FINISHED"
    # The same status from the command line, any worker: the run's record is in the state store.
    out = streamstack("engine", "status", "--engine", "kstreams", "running_totals")
    assert "kstreams running_totals: FINISHED, bounded, lag 0" in out, out
    again = streamstack("engine", "submit", "--engine", "kstreams", "running_totals")  # bounded, waits
    assert again.strip().splitlines()[-1].startswith("kstreams running_totals: FINISHED, bounded, lag 0"), again
    assert "kstreams running_totals: FINISHED" in streamstack("engine", "stop", "--engine", "kstreams", "running_totals")
    # README's "Querying a running total over HTTP": continuous, the state store over HTTP, a clean stop.
    live = streamstack("engine", "submit", "--engine", "kstreams", "--mode", "continuous", "running_totals")
    assert "kstreams running_totals: RUNNING, continuous" in live, live
    url = f"http://127.0.0.1:{os.environ['STREAMSTACK_KSTREAMS_PORT']}/totals/CS01"
    with urllib.request.urlopen(url, timeout=10) as resp:
        over_http = json.loads(resp.read())
    assert over_http["product_id"] == "CS01" and over_http["transactions"] > 0, over_http
    from_cli = streamstack("kstreams", "totals", "CS01")
    assert json.JSONDecoder().raw_decode(from_cli[from_cli.index("{"):])[0] == over_http
    assert "kstreams running_totals: STOPPED" in streamstack("engine", "stop", "--engine", "kstreams", "running_totals")
    assert "no claims" in streamstack("engine", "claims") or "ended" in streamstack("engine", "claims")


@pytest.mark.timeout(1800)
def test_demo_with_engine_kstreams_counts_exactly(airflow: AirflowClient) -> None:
    """`make demo ENGINE=kstreams`: the three Kafka Streams apps do the stream work, windows included.

    After the stream_jobs Kafka Streams test (its bounded totals run must find new input)."""
    settings = Settings.from_env()
    from streamstack.topics import load_topics
    from streamstack.topics.offsets import end_offsets

    windows_topic = load_topics(settings.topics_file)["sales_windows"].name
    windows_before = sum(end_offsets(settings.kafka_client_config(), windows_topic).values())
    before = pinot_count("purchasesEnriched")
    # `make demo ENGINE=kstreams` ends live (#28): the batch first, then the stream keeps flowing.
    out = streamstack("demo", "--transactions", "40", "--mode", "load", env={"STREAMSTACK_ENGINE": "kstreams"})
    try:
        _check_the_demo_ended_live(out)
    finally:
        print(streamstack("live", "stop"))
    run_id = re.search(r"==> Running streaming_platform \((\S+)\)", out).group(1)
    states = task_states(airflow, "streaming_platform", run_id)
    assert states["stream_jobs"] == states["stream_jobs_done"] == "success", states
    done = airflow.xcom("streaming_platform", run_id, "stream_jobs_done")
    assert {(s["engine"], s["state"]) for s in done.values()} == {("kstreams", "FINISHED")}, done
    generated = airflow.xcom("streaming_platform", run_id, "summary")["generated"]["purchases"]
    # The live sales that followed the batch are all newer than the moment it went live.
    assert pinot_count("purchasesEnriched", f"transaction_time < {LIVE['since_ms']}") == before + generated
    accounted = airflow.xcom("streaming_platform", run_id, "batch_accounted")
    assert accounted["complete"] and accounted["enriched"] == generated, accounted
    assert sum(end_offsets(settings.kafka_client_config(), windows_topic).values()) > windows_before
    assert "quality gate: PASSED" in out, out[-3000:]


#: What the kstreams demo's live ending recorded (the moment it went live, epoch ms).
LIVE: dict[str, int] = {}


def _check_the_demo_ended_live(out: str) -> None:
    """The summary says the platform is live, and every stage is: jobs running, sales flowing."""
    from streamstack import live

    assert "LIVE on kstreams" in out and "until `make down`" in out, out[-2000:]
    record = live.live_record(live.default_store())
    assert record is not None and record["engine"] == "kstreams", record
    LIVE["since_ms"] = int(live.live_since(record) * 1000)
    status = json.loads(streamstack("live", "status", "--json"))
    assert status["engine"] == "kstreams" and all(f["ok"] for f in status["findings"]), status
    stages = {f["stage"] for f in status["findings"]}
    assert {"kstreams purchases_enrichment", "kstreams running_totals", "kstreams sales_windows",
            "pinot purchasesEnriched"} <= stages, stages

