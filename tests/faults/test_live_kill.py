"""Issue #28: the live pipeline, supervised by Airflow, under kill -9.

``streamstack live start --engine kstreams`` on the session's whole stack: the three Kafka Streams
jobs continuous, ``live_sales`` selling in chunks, ``live_supervisor`` checking every minute, its
alert connection pointed at a local receiver:

1. kill -9 of the enrichment's JVM → the first check after it (one is triggered at once; the
   schedule's would come within its minute) restarts it from its committed offsets;
2. kill -9 again → the next check restarts it again and fails with "crash loop", and the alert
   reaches the receiver;
3. ``streamstack live stop`` (no chunk left running: its open sale aborted), the jobs caught
   up: every line the live chunks committed is enriched exactly once on the topic and in Pinot.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import faultkit as fk
import pytest

from streamstack import engines
from streamstack.airflow_client import AirflowApiError, AirflowClient
from streamstack.pinot import local_client
from streamstack.runtime.process import pid_alive
from streamstack.settings import Settings
from streamstack.stack import Stack
from streamstack.topics import load_topics
from streamstack.topics.offsets import read_to_end

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).parent / "streamstack")
JOB = "purchases_enrichment"


class Receiver:
    """A local webhook: remembers the JSON body of every POST."""

    def __init__(self) -> None:
        bodies: list[dict] = []
        self.bodies = bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alert"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def _cli(*args: str, timeout: float = 900) -> str:
    proc = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"streamstack {' '.join(args)}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _check_after(airflow: AirflowClient, moment: float) -> tuple[dict, str]:
    """The check that restarted the job killed at ``moment``, once it ended: its run and log.

    One is triggered at once; a scheduled one may start first (whichever does, acts), so the
    runs started since are read until one restarted the job.
    """
    airflow.trigger("live_supervisor", {})

    def restarted() -> tuple[dict, str] | None:
        for run in sorted(airflow.runs("live_supervisor"), key=lambda r: r.get("start_date") or ""):
            started = run.get("start_date")
            if not started or datetime.fromisoformat(started).timestamp() < moment - 5:
                continue
            if run["state"] not in ("success", "failed"):
                return None
            log = airflow.task_log("live_supervisor", run["dag_run_id"], "check", 1, lines=40)
            if f"kstreams {JOB}: restarted from its checkpoint" in log:
                return run, log
        return None

    run, log = fk.wait_for(restarted, 180, "a supervisor check that restarted the killed job")
    assert datetime.fromisoformat(run["start_date"]).timestamp() - moment <= 61, run  # within one interval
    return run, log


def _kill(engine: engines.StreamEngine, airflow: AirflowClient) -> tuple[int, float]:
    """kill -9 of the job's JVM between two checks (one running now would see it first)."""
    fk.wait_for(lambda: not [r for r in airflow.runs("live_supervisor") if r["state"] in ("queued", "running")],
                120, "no supervisor check running")
    pid = engine.status(JOB).detail["pid"]
    os.kill(pid, signal.SIGKILL)
    fk.wait_for(lambda: not pid_alive(pid), 30, f"pid {pid} to die")
    return pid, time.time()


@pytest.mark.timeout(900)
def test_the_supervisor_restarts_a_killed_job_reports_a_crash_loop_and_nothing_is_lost(
    platform: Stack, airflow: AirflowClient, kafka: Settings, receiver: Receiver
) -> None:
    with contextlib.suppress(AirflowApiError):  # not there yet
        airflow.request("DELETE", "/connections/streamstack_alerts")
    airflow.request("POST", "/connections", json={"connection_id": "streamstack_alerts", "conn_type": "http",
                                                  "host": receiver.url})
    details = airflow.request("GET", "/dags/live_supervisor/details")
    assert "0:01:00" in json.dumps(details.get("timetable_summary") or details.get("timetable_description")), details
    started = time.time()
    print(_cli("live", "start", "--engine", "kstreams"))
    try:
        engine = engines.get("kstreams")
        pinot = local_client(kafka)
        fk.wait_for(lambda: pinot.query(
            f"SELECT COUNT(*) AS n FROM purchasesEnriched WHERE transaction_time > {int(started * 1000)}")[0]["n"] > 0,
            180, "a live sale enriched in Pinot")

        first, killed = _kill(engine, airflow)
        run, log = _check_after(airflow, killed)
        assert run["state"] == "success", log
        again = engine.status(JOB)
        assert again.state == engines.State.RUNNING and again.detail["pid"] != first, again.line()

        _, killed = _kill(engine, airflow)
        run, log = _check_after(airflow, killed)
        assert run["state"] == "failed", log
        assert "crash loop: restarted again" in log, log
        # A scheduled check may fail on a bound of its own meanwhile (and alert): the crash loop's is one.
        loops = fk.wait_for(lambda: [b for b in receiver.bodies if "crash loop" in b["text"]], 60,
                            "the crash loop's alert at the local receiver")
        assert len(loops) == 1, receiver.bodies
        assert all(b["text"].startswith("live_supervisor.check failed") for b in receiver.bodies), receiver.bodies
        assert engine.status(JOB).state == engines.State.RUNNING
    finally:
        chunks = [r["dag_run_id"] for r in airflow.runs("live_sales") if r["state"] in ("queued", "running")]
        stopped = _cli("live", "stop")  # the running chunk cut short: its open sale aborted
        print(stopped)
        airflow.request("DELETE", "/connections/streamstack_alerts")
    assert not [r for r in airflow.runs("live_sales") if r["state"] in ("queued", "running")], stopped

    # Nothing the cut chunk's process sends after the stop lands, however long it lives on (it
    # learns of the stop at its next heartbeat): the lines sold at the stop are all there will be.
    topics = load_topics(kafka.topics_file)
    config = kafka.kafka_client_config()
    since = int(started * 1000)

    def sold_ids() -> set[tuple[str, int]]:
        return {(v["transaction_id"], v["line_number"])
                for v in (json.loads(r["value"]) for r in read_to_end(config, topics["purchases"].name)
                          if r["timestamp"] >= since)}

    at_stop = sold_ids()
    for run_id in chunks:
        pids = [ti.get("pid") for ti in airflow.request(
            "GET", f"/dags/live_sales/dagRuns/{run_id}/taskInstances")["task_instances"] if ti.get("pid")]
        for pid in pids:
            fk.wait_for(lambda pid=pid: not pid_alive(pid), 90, f"the cut chunk's task process {pid} to end")
    assert sold_ids() == at_stop, "a chunk sold on after `streamstack live stop`"

    # Every line the live chunks committed, enriched exactly once (the jobs caught up first).
    engine.submit([JOB], engines.Mode.BOUNDED, resume=True)
    engines.wait(engine, [JOB], engines.Mode.BOUNDED, timeout=300)
    sold = sold_ids()
    assert sold, "the live chunks sold nothing"

    def enriched() -> Counter:
        return Counter((v["transaction_id"], v["line_number"])
                       for v in (json.loads(r["value"]) for r in read_to_end(config, topics["purchases_enriched"].name))
                       if (v["transaction_id"], v["line_number"]) in sold)

    try:  # the caught-up job's last transaction may commit a moment after its status says so
        fk.wait_for(lambda: set(enriched()) == sold, 120, f"the {len(sold)} live lines on the enriched topic")
    finally:
        letters = [json.loads(r["value"]) for r in read_to_end(config, topics["purchases_invalid"].name)
                   if r["timestamp"] >= since]
        print("dead letters since the start:", [(d.get("rejected_by"), d.get("reason")) for d in letters])
        print(engine.status(JOB).line())
    assert max(enriched().values()) == 1, enriched().most_common(3)
    ids = ",".join(f"'{t}'" for t in sorted({t for t, _ in sold}))
    fk.wait_for(lambda: pinot.query(f"SELECT COUNT(*) AS n FROM purchasesEnriched WHERE transaction_id IN ({ids})"
                                    )[0]["n"] == len(sold), 120, f"Pinot to hold the {len(sold)} live lines")
