"""The whole platform through Airflow's REST API, asserting on the data, not only run states.

Order matters (one module, one stack): the "run everything" DAG first, then a re-run that must
stay exact, then the schedules (a cron-scheduled generator run and the Asset-triggered chain
behind it) in the running scheduler.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from support.platform import pinot_count, run_dag, streamstack

from streamstack.airflow_client import AirflowClient
from streamstack.settings import Settings

PIPELINE = "streaming_platform"
SCHEDULED = ["sales_generator", "stream_jobs", "pinot_ingestion", "purchases_quality"]


def wait_for_new_run(
    client: AirflowClient, dag_id: str, run_type: str, known: set[str], timeout: float = 600
) -> dict[str, Any]:
    """Wait until the scheduler has created and finished a run of ``run_type`` not in ``known``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in client.runs(dag_id):
            if run["dag_run_id"] in known or run["run_type"] != run_type:
                continue
            if run["state"] == "success":
                return run
            if run["state"] == "failed":
                pytest.fail(client.failure_report(dag_id, run["dag_run_id"]))
        time.sleep(3)
    pending = [r["dag_run_id"] for r in client.runs(dag_id) if r["dag_run_id"] not in known]
    reports = "\n".join(client.failure_report(dag_id, run_id) for run_id in pending)
    pytest.fail(f"no {run_type} run of {dag_id} finished within {timeout:.0f}s; new runs: {pending}\n{reports}")


@pytest.fixture(scope="module")
def quiet(airflow: AirflowClient):
    """Scheduled DAGs paused, so only the runs a test starts touch the data."""
    for dag_id in SCHEDULED:
        airflow.wait_for_dag(dag_id)
        airflow.set_paused(dag_id, True)
    yield airflow
    for dag_id in SCHEDULED:
        airflow.set_paused(dag_id, True)


def test_no_import_errors(airflow: AirflowClient) -> None:
    airflow.wait_for_dag(PIPELINE)
    assert airflow.import_errors() == []


# Each test's pytest timeout is longer than all of its own waits together, so a slow or stuck run
# fails with the run's task states and log tails (failure_report), not with a thread dump.
@pytest.mark.timeout(1500)
def test_run_everything_counts_are_exact(quiet: AirflowClient) -> None:
    """`make demo DEMO_ARGS="--days 7"`: `streamstack demo` runs a simulated week through Airflow."""
    before = pinot_count("purchasesEnriched")
    out = streamstack("demo", "--days", "7", "--no-live", timeout=1400)
    run_id = re.search(r"==> Running streaming_platform \((\S+)\)", out).group(1)
    summary = quiet.xcom(PIPELINE, run_id, "summary")
    generated = summary["generated"]["purchases"]
    assert summary["generated"]["simulated_days"] == 7
    assert generated >= 1000  # a week of the cafe profile: thousands of lines
    assert pinot_count("purchasesEnriched") == before + generated
    assert summary["pinot"]["purchasesEnriched"]["rows"] == before + generated
    assert pinot_count("products") == 27  # upsert: the latest version of each product
    # The run's own lines, counted by their time range (the scheduled DAGs are paused: none other).
    accounted = quiet.xcom(PIPELINE, run_id, "batch_accounted")
    assert accounted["complete"] and accounted["enriched"] == accounted["expected"] == generated, accounted
    assert summary["quality"]["status"] == "passed", summary["quality"]
    assert summary["top_products"], "the top-products query returned nothing"
    # What the user reads at the end of `make demo`: the week, the counts, the verdict, the dashboards.
    for shown in ("==> Summary", f"{generated} purchase lines", "simulated   7 days", "quality gate: PASSED",
                  "Top products (Pinot, purchasesEnriched)", "Superset dashboards", "Notebooks (JupyterLab"):
        assert shown in out, f"{shown!r} not in the demo's output:\n{out[-3000:]}"
    # The Data Docs page as a URL of the Airflow UI, not a file path (#28), and it answers.
    (url,) = re.findall(r"Data Docs: (\S+)", out)
    assert url.startswith(quiet.base_url + "/streamstack/data-docs/streaming_platform/"), url
    assert quiet.session.get(url, timeout=30).status_code == 200, url


def _enriched_end(settings: Settings) -> int:
    """Records ever written to the enriched topic (its end offsets, summed)."""
    from streamstack.topics import load_topics
    from streamstack.topics.offsets import end_offsets

    topic = load_topics(settings.topics_file)["purchases_enriched"].name
    return sum(end_offsets(settings.kafka_client_config(), topic).values())


@pytest.mark.timeout(1500)
def test_rerun_of_the_processing_changes_nothing(quiet: AirflowClient) -> None:
    """Re-running the processing alone (no new sales) writes nothing: the checkpoints hold.

    Pinot's dedup would hide a re-enrichment from a lost checkpoint (its row count stays), so the
    enriched topic itself must not grow. The exact counts of a further batch are the scheduled test's.
    """
    settings = Settings.from_env()
    before, written = pinot_count("purchasesEnriched"), _enriched_end(settings)
    run_dag(quiet, "stream_jobs", {"action": "submit", "mode": "bounded"}, timeout=600)
    run_dag(quiet, "pinot_ingestion", {"dry_run": False}, timeout=600)
    quiet.set_paused("stream_jobs", True)
    quiet.set_paused("pinot_ingestion", True)
    assert _enriched_end(settings) == written, "the re-run enriched purchases again (a checkpoint was not used)"
    assert pinot_count("purchasesEnriched") == before
    assert pinot_count("products") == 27


@pytest.mark.timeout(2700)
def finished_new_runs(client: AirflowClient, dag_id: str, run_type: str, known: set[str],
                      timeout: float = 600) -> list[dict[str, Any]]:
    """Every run of ``run_type`` not in ``known`` that started, once none of them runs (a run
    queued behind a pause never starts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [r for r in client.runs(dag_id) if r["dag_run_id"] not in known and r["run_type"] == run_type
                and r["state"] != "queued"]
        for run in runs:
            if run["state"] == "failed":
                pytest.fail(client.failure_report(dag_id, run["dag_run_id"]))
        if runs and all(r["state"] == "success" for r in runs):
            return runs
        time.sleep(3)
    pytest.fail(f"the new {run_type} runs of {dag_id} did not all finish within {timeout:.0f}s")


def test_scheduled_run_and_asset_triggered_chain(quiet: AirflowClient) -> None:
    before = pinot_count("purchasesEnriched")
    known = {dag_id: {r["dag_run_id"] for r in quiet.runs(dag_id)} for dag_id in SCHEDULED}
    # Downstream first, so the Asset events find them unpaused; then the generator, whose
    # hourly schedule makes the scheduler start the run of the last tick right away.
    for dag_id in ["stream_jobs", "pinot_ingestion", "purchases_quality", "sales_generator"]:
        quiet.set_paused(dag_id, False)
    deadline = time.monotonic() + 120
    while not [r for r in quiet.runs("sales_generator")
               if r["dag_run_id"] not in known["sales_generator"] and r["state"] != "queued"]:
        assert time.monotonic() < deadline, "the scheduler started no run of sales_generator"
        time.sleep(1)
    # Paused again once it started (a paused DAG's queued run never starts): only a tick that falls
    # in these seconds can add a run (CI at 20:59,
    # paused after the run: the new hour's run, 70 more rows). Every new run's batch counts. (The
    # test used to sleep past the hour when started late in one: up to 5 minutes of CI.)
    quiet.set_paused("sales_generator", True)
    generated = sum(quiet.xcom("sales_generator", r["dag_run_id"], "generate_sales")["purchases"]
                    for r in finished_new_runs(quiet, "sales_generator", "scheduled", known["sales_generator"]))
    wait_for_new_run(quiet, "stream_jobs", "asset_triggered", known["stream_jobs"])
    wait_for_new_run(quiet, "pinot_ingestion", "asset_triggered", known["pinot_ingestion"])
    # A second batch may come through a later pair of Asset-triggered runs.
    deadline = time.monotonic() + 300
    while (count := pinot_count("purchasesEnriched")) < before + generated and time.monotonic() < deadline:
        time.sleep(2)
    assert count == before + generated
    # The quality gate is scheduled on the same Asset (and hourly): its Asset-triggered run passes.
    checked = wait_for_new_run(quiet, "purchases_quality", "asset_triggered", known["purchases_quality"])
    verdict = quiet.xcom("purchases_quality", checked["dag_run_id"], "check_purchases_enriched")
    assert verdict["status"] == "passed", verdict
    assert verdict["rows_checked"] > 0 and verdict["data_docs"], verdict
