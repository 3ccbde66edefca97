"""Faults on the real cluster: a TaskManager killed mid-run, and stop-with-savepoint then resume.

Both run ``running_totals`` continuously with exactly-once sinks: its output is an absolute
total per product, so a lost input shows as a smaller total and a duplicate as a larger one.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from support import flink_testkit as tk

from streamstack.flink.config import FlinkConfig
from streamstack.flink.jobs import submission
from streamstack.flink.rest import FlinkRest
from streamstack.settings import Settings
from streamstack.stack.stack import Stack

pytestmark = pytest.mark.integration


def start_totals(flink: FlinkConfig, contract: Path, topics: dict[str, str], savepoint: str | None = None,
                 extra: list[str] | None = None) -> str:
    name = f"streamstack.running_totals.{topics['purchases'].rsplit('.', 1)[-1]}"
    return submission("running_totals", flink, contract, topics, mode="continuous", name=name,
                      savepoint=savepoint, extra=extra or []).run()


def test_taskmanager_killed_mid_run_recovers_every_input_once(
    kafka: Settings, flink: FlinkConfig, flink_rest: FlinkRest, contract_file: Path, fresh_topics: dict[str, str]
) -> None:
    config = kafka.kafka_client_config()
    base = tk.base_time()
    first, second = tk.batch(0, 300, base), tk.batch(300, 300, base)
    tk.produce(config, fresh_topics["purchases"], first, key="transaction_id", partition_of=lambda i: i % 3)
    jid = start_totals(flink, contract_file, fresh_topics)
    try:
        flink_rest.wait_state(jid, {"RUNNING"}, timeout=300)
        tk.poll_until(lambda: tk.totals_match(config, fresh_topics["running_totals"], first), 300, "totals of batch 1")
        checkpoint = flink_rest.wait_checkpoint(jid)
        tk.produce(config, fresh_topics["purchases"], second, key="transaction_id", partition_of=lambda i: i % 3)
        taskmanager = Stack(kafka, names=["flink-taskmanager"]).get("flink-taskmanager")
        pid = taskmanager.process.pid()
        assert pid is not None
        os.killpg(pid, signal.SIGKILL)  # the TaskManager JVM and its Python workers, no clean shutdown
        tk.poll_until(lambda: not taskmanager.is_running(), 60, "TaskManager gone")
        taskmanager.up()
        tk.poll_until(lambda: tk.totals_match(config, fresh_topics["running_totals"], first + second), 420,
                      "totals of both batches after the TaskManager restart")
        health = flink_rest.health(jid)
        assert health["state"] == "RUNNING"
        # Restored from a checkpoint (not restarted empty: totals from the earliest offset would
        # converge to the same values).
        restored = (flink_rest.checkpoints(jid).get("latest") or {}).get("restored")
        assert restored and restored["id"] >= checkpoint and not restored.get("is_savepoint"), restored
    finally:
        for job in flink_rest.running(flink_rest.job(jid)["name"]):
            flink_rest._call("PATCH", f"/jobs/{job['jid']}?mode=cancel")


def test_stop_with_savepoint_then_resume_loses_and_duplicates_nothing(
    kafka: Settings, flink: FlinkConfig, flink_rest: FlinkRest, contract_file: Path, fresh_topics: dict[str, str]
) -> None:
    config = kafka.kafka_client_config()
    base = tk.base_time()
    first, second = tk.batch(0, 200, base), tk.batch(200, 200, base)
    tk.produce(config, fresh_topics["purchases"], first, key="transaction_id", partition_of=lambda i: i % 3)
    jid = start_totals(flink, contract_file, fresh_topics)
    flink_rest.wait_state(jid, {"RUNNING"}, timeout=300)
    tk.poll_until(lambda: tk.totals_match(config, fresh_topics["running_totals"], first), 300, "totals of batch 1")
    savepoint = flink_rest.stop_with_savepoint(jid, flink.savepoint_dir.resolve().as_uri())
    assert flink_rest.job(jid)["state"] == "FINISHED"
    tk.produce(config, fresh_topics["purchases"], second, key="transaction_id", partition_of=lambda i: i % 3)
    # From "latest" unless the savepoint's state and offsets are used: a resume that ignored the
    # savepoint would read nothing (batch 2 is already on the topic) and never reach the totals.
    resumed = start_totals(flink, contract_file, fresh_topics, savepoint=savepoint,
                           extra=["--starting-offsets", "latest"])
    try:
        tk.poll_until(lambda: tk.totals_match(config, fresh_topics["running_totals"], first + second), 300,
                      "totals of both batches after resuming from the savepoint")
    finally:
        flink_rest._call("PATCH", f"/jobs/{resumed}?mode=cancel")
