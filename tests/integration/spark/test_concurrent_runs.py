"""Finding #9: two runs that need the same job never kill each other's copy.

Run A processes the topics available-now (many small batches). While it holds the job's lock,
run B starts the job in continuous mode, as the Asset-triggered spark_streaming DAG does while
streaming_platform's own Spark task runs. B must wait for A (never SIGTERM it), and A must have
done all its work when it exits (a SIGTERMed available-now copy also exits 0, having stopped
early: that is the success-for-work-not-done this guards against).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from support import spark_testkit as kit

from streamstack.settings import Settings
from streamstack.spark.checkpoint import committed_offsets
from streamstack.spark.control import SparkJobControl
from streamstack.spark.jobs import submission
from streamstack.spark.lock import job_paths
from streamstack.topics import TopicSpecs
from streamstack.topics.offsets import end_offsets

pytestmark = pytest.mark.integration
JOB = "purchases_enrichment"


def test_a_continuous_start_waits_for_another_runs_available_now_copy(
    kafka: Settings, kafka_config: dict, fresh_topics: TopicSpecs, tmp_path: Path, spark_jars: list
) -> None:
    t = fresh_topics
    settings = replace(kafka, state_dir=tmp_path / "state")
    control = SparkJobControl(settings, topics=t, checkpoint_dir=tmp_path / "checkpoints")
    kit.produce_catalogue(kafka_config, t["products"].name, kit.catalogue())
    kit.produce_purchases(kafka_config, t["purchases"].name, kit.sample_purchases())
    ends = end_offsets(kafka_config, t["purchases"].name)

    sub = submission(JOB, settings, topics=t, checkpoint_dir=control.checkpoint_dir, conf=kit.LIGHT_CONF,
                     extra_args=["--max-offsets-per-trigger", "30"], jars=spark_jars)
    run_a = subprocess.Popen(sub.command(), env={**os.environ, **sub.env}, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    checkpoint = job_paths(control.checkpoint_dir, JOB)["checkpoint"]
    at_exit: dict = {}

    def watch() -> None:  # what A had committed the moment it exited
        code = run_a.wait(timeout=400)
        at_exit["offsets"] = committed_offsets(checkpoint).get(t["purchases"].name, {})
        at_exit["code"] = code

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        deadline = time.monotonic() + 180
        while (control.holder(JOB) is None or not checkpoint.joinpath("commits").exists()) and time.monotonic() < deadline:
            assert run_a.poll() is None, run_a.stderr.read()[-3000:] if run_a.stderr else ""
            time.sleep(0.5)
        assert control.holder(JOB) is not None, "run A never took the lock"

        pid_b = control.start(JOB, interval="1 second", conf=kit.LIGHT_CONF)  # run B
        watcher.join(timeout=60)
        assert at_exit.get("code") == 0, at_exit
        assert at_exit["offsets"] == ends, f"run A was stopped before its work was done: {at_exit} vs end {ends}"
        assert control.holder(JOB).pid == pid_b
    finally:
        if run_a.poll() is None:
            run_a.kill()
        control.stop(JOB)
