"""Findings #1 and #2 without services: what a reset deletes, offsets beyond a topic's end,
and a failed start that leaves nothing running."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from support.fake_services import NeverReadyService, free_port

from streamstack.errors import StackError, StreamstackError
from streamstack.pinot.ingestion import TableIngestion
from streamstack.runtime.process import pid_alive
from streamstack.settings import Settings
from streamstack.spark.control import SparkJobControl
from streamstack.stack import Stack


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


def test_offset_beyond_the_topics_end_is_an_error_not_caught_up() -> None:
    s = TableIngestion("t", "topic", {0: 10, 1: 5}, {0: 500, 1: 5}, rows=0, newest_ms=None)
    assert not s.caught_up
    assert s.beyond_end == {0: (500, 10)}
    assert "beyond the end" in s.summary()




def test_spark_lag_beyond_the_end_is_an_error(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import streamstack.spark.control as control

    monkeypatch.setattr(control, "watermarks", lambda config, topic: {0: (0, 10)})
    with pytest.raises(StreamstackError, match=r"beyond the end.*spark reset"):
        SparkJobControl(settings)._lag("demo.purchases", {0: 400})


def test_spark_reset_deletes_a_checkpoint_and_refuses_while_running(settings: Settings) -> None:
    import fcntl
    import json
    import os

    from streamstack.spark.control import job_paths

    control = SparkJobControl(settings)
    checkpoint = settings.state_dir / "spark" / "checkpoints" / "purchases_enrichment"
    # A running copy holds the job's lock (as jobs/spark/runner.py does): reset refuses, deletes nothing.
    lock = job_paths(control.checkpoint_dir, "purchases_enrichment")["lock"]
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write(json.dumps({"pid": os.getpid(), "ppid": None, "mode": "continuous", "started": "now"}))
        held.flush()
        with pytest.raises(StackError, match=r"is running .*streamstack spark stop purchases_enrichment"):
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
