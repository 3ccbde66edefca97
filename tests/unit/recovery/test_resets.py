"""Findings #1 and #2 without services: what a reset deletes, offsets beyond a topic's end,
and a failed start that leaves nothing running."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from support.fake_services import NeverReadyService, free_port

from streamstack.errors import StackError, StreamstackError
from streamstack.pinot.ingestion import TableIngestion
from streamstack.runtime.process import pid_alive, start_ticks
from streamstack.settings import Settings
from streamstack.spark.control import SparkJobControl
from streamstack.stack import Stack
from streamstack.stack.flink import FlinkJobManagerService, FlinkTaskManagerService
from streamstack.stack.service import Service


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    state = tmp_path / "state"
    for sub in ("kafka/data", "pinot-zk/data", "pinot/data", "airflow", "spark/checkpoints/purchases_enrichment",
                "flink/savepoints", "flink/checkpoints", "flink/conf", "kstreams/state/app-1"):
        (state / sub).mkdir(parents=True)
    return replace(Settings.from_env(), state_dir=state)


def test_reset_kafka_resets_what_holds_its_offsets(settings: Settings) -> None:
    lines: list[str] = []
    Stack(settings, names=["kafka"]).reset(lines.append)
    state = settings.state_dir
    assert not (state / "kafka").exists()
    assert not (state / "spark" / "checkpoints").exists(), "Spark checkpoints point at the old topics' offsets"
    assert not (state / "pinot").exists() and not (state / "pinot-zk").exists(), "Pinot's consuming offsets"
    assert (state / "airflow").exists()
    assert not (state / "flink" / "savepoints").exists() and not (state / "flink" / "checkpoints").exists()
    assert not (state / "kstreams" / "state").exists(), "Kafka Streams' stores hold totals of the old topics"
    assert (state / "flink" / "conf").exists()
    text = "\n".join(lines)
    assert "spark checkpoints" in text and "pinot-zk" in text and "pinot:" in text, text


def test_reset_pinot_resets_its_zookeeper_metadata_too(settings: Settings) -> None:
    lines: list[str] = []
    Stack(settings, names=["pinot"]).reset(lines.append)
    assert not (settings.state_dir / "pinot").exists() and not (settings.state_dir / "pinot-zk").exists()
    assert (settings.state_dir / "kafka").exists()


@pytest.fixture
def running() -> Iterator[list[subprocess.Popen]]:
    """Stand-ins for running services: processes of their own session, killed at the end."""
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        proc.kill()
        proc.wait()


def _pretend_running(service: Service, running: list[subprocess.Popen]) -> subprocess.Popen:
    """A process recorded in ``service``'s pid file as the stack records it (pid and start time)."""
    proc = subprocess.Popen(["sleep", "120"], start_new_session=True)
    running.append(proc)
    service.process.run_dir.mkdir(parents=True, exist_ok=True)
    service.process.pid_file.write_text(f"{proc.pid} {start_ticks(proc.pid)}\n")
    assert service.is_running()
    return proc


def test_reset_flink_taskmanager_keeps_the_jobmanager_and_the_savepoints(
    settings: Settings, running: list[subprocess.Popen]
) -> None:
    """Issue #29 item 3: the TaskManager's state is its own; the savepoints are the only way to
    resume a continuous job, and the JobManager (with its jobs) keeps running."""
    flink = settings.state_dir / "flink"
    kept = [flink / "savepoints" / "running_totals.latest.json", flink / "checkpoints" / "abc" / "_metadata",
            flink / "conf" / "config.yaml"]
    for path in kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    jobmanager = FlinkJobManagerService(settings)
    proc = _pretend_running(jobmanager, running)
    lines: list[str] = []
    Stack(settings, names=["flink-taskmanager"]).reset(lines.append)
    assert [p for p in kept if not p.exists()] == []
    assert jobmanager.is_running() and proc.poll() is None, "the JobManager's pid file went with the reset"
    taskmanager = FlinkTaskManagerService(settings)
    assert not taskmanager.state_dir.exists()
    assert lines == [f"flink-taskmanager: state deleted ({taskmanager.state_dir})"]


def test_reset_flink_jobmanager_leaves_a_running_taskmanager_tracked(
    settings: Settings, running: list[subprocess.Popen]
) -> None:
    """Deleting the JobManager's folder must not take the TaskManager's pid file with it: the stack
    would lose track of a running process (not stopped by ``down``, a second copy on ``up``)."""
    taskmanager = FlinkTaskManagerService(settings)
    _pretend_running(taskmanager, running)
    Stack(settings, names=["flink-jobmanager"]).reset(lambda _: None)
    assert not (settings.state_dir / "flink" / "savepoints").exists()
    assert taskmanager.is_running()


def test_a_taskmanager_started_before_it_had_its_own_folder_is_still_tracked(
    settings: Settings, running: list[subprocess.Popen]
) -> None:
    """Its pid file, in the JobManager's folder then, moves to its own: ``down`` still stops it."""
    old = FlinkTaskManagerService(settings)
    old.process.pid_file = settings.state_dir / "flink" / old.process.pid_file.name
    _pretend_running(old, running)
    assert FlinkTaskManagerService(settings).is_running()
    assert not (settings.state_dir / "flink" / "flink-taskmanager.pid").exists()


def test_offset_beyond_the_topics_end_is_an_error_not_caught_up() -> None:
    s = TableIngestion("t", "topic", {0: 10, 1: 5}, {0: 500, 1: 5}, rows=0, newest_ms=None)
    assert not s.caught_up
    assert s.beyond_end == {0: (500, 10)}
    assert "beyond the end" in s.summary()




def test_spark_lag_beyond_the_end_is_an_error(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import streamstack.topics.offsets as offsets

    monkeypatch.setattr(offsets, "watermarks", lambda config, topic: {0: (0, 10)})
    monkeypatch.setattr("streamstack.spark.control.committed_offsets", lambda path: {"demo.purchases": {0: 400}})
    with pytest.raises(StreamstackError, match=r"beyond the end.*engine reset --engine spark purchases_enrichment"):
        SparkJobControl(settings).check_checkpoint("purchases_enrichment")


def test_spark_reset_deletes_a_checkpoint_and_refuses_while_running(settings: Settings) -> None:
    import fcntl
    import json
    import os

    from streamstack.spark.lock import job_paths

    control = SparkJobControl(settings)
    checkpoint = settings.state_dir / "spark" / "checkpoints" / "purchases_enrichment"
    # A running copy holds the job's lock (as jobs/spark/runner.py does): reset refuses, deletes nothing.
    lock = job_paths(control.checkpoint_dir, "purchases_enrichment")["lock"]
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write(json.dumps({"pid": os.getpid(), "ppid": None, "mode": "continuous", "started": "now"}))
        held.flush()
        with pytest.raises(StackError, match=r"is running .*streamstack engine stop --engine spark purchases_enrichment"):
            control.reset("purchases_enrichment")
        assert checkpoint.exists()
    assert control.reset("purchases_enrichment") is True  # the lock released: reset goes ahead
    assert not checkpoint.exists()
    assert control.reset("purchases_enrichment") is False


def test_a_start_that_never_becomes_ready_leaves_nothing_running(settings: Settings) -> None:
    service = NeverReadyService(replace(settings, start_timeout=3.0), free_port())
    with pytest.raises(StackError, match="did not become ready"):
        service.up()
    pid = int(service.process.pid_file.read_text().split()[0]) if service.process.pid_file.exists() else None
    proc = getattr(service.process, "_popen", None)
    assert proc is not None
    assert proc.poll() is not None or not pid_alive(proc.pid), "the failed start left its process running"
    assert pid is None
