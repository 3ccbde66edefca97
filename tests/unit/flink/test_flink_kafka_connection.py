"""The Flink operator takes Kafka from the ``kafka_default`` connection, as the Spark operator does.

The connection's bootstrap servers reach the job's command line; its SASL settings reach the job
only as Java client properties in a 0600 file (``--kafka-config-file``), never the command line.
"""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from streamstack.engines import JobStatus, State
from streamstack.flink import control as flink_control
from streamstack.flink import jobs as flink_jobs
from streamstack.flink.config import FlinkConfig
from streamstack.flink.engine import FlinkEngine
from streamstack.providers.engines.operators import StreamJobOperator
from streamstack.settings import Settings

SECRET = "s3cr3t-pa55"


@pytest.fixture
def submitted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    settings = replace(Settings.from_env(), state_dir=tmp_path / "state")
    cfg = FlinkConfig.from_env(settings)
    monkeypatch.setattr(flink_control.FlinkConfig, "from_env", classmethod(lambda cls, s=None: cfg))
    monkeypatch.setattr(flink_control.FlinkJobControl, "running", lambda self, job: None)
    monkeypatch.setattr(flink_control.FlinkJobControl, "contract_file", lambda self: tmp_path / "contract.json")
    commands: list[list[str]] = []

    def run(self: flink_jobs.Submission, timeout: float = 600) -> str:
        commands.append(self.command())
        return "f" * 32

    monkeypatch.setattr(flink_jobs.Submission, "run", run)
    monkeypatch.setattr(FlinkConfig, "flink_bin", property(lambda self: tmp_path / "flink"))
    monkeypatch.setattr(FlinkEngine, "status", lambda self, job: JobStatus("flink", job, State.RUNNING,
                                                                          detail={"jid": "f" * 32}))
    # No broker here: what a bounded run has to read is not this test's concern.
    monkeypatch.setattr(StreamJobOperator, "_starting_points", lambda self, engine, jobs: {})
    # Nor whether retention has trimmed the purchases a bounded totals run rebuilds from (it has not).
    monkeypatch.setattr("streamstack.engines.rebuild.watermarks", lambda config, topic: {0: (0, 0)})
    monkeypatch.setenv("AIRFLOW_CONN_FLINK_DEFAULT", json.dumps({"conn_type": "flink", "host": "127.0.0.1",
                                                                 "port": 18081}))
    monkeypatch.setenv("AIRFLOW_CONN_KAFKA_UNDER_TEST", json.dumps({
        "conn_type": "kafka",
        "extra": {"bootstrap.servers": "kafka.example:19093", "security.protocol": "SASL_PLAINTEXT",
                  "sasl.mechanisms": "PLAIN", "sasl.username": "streamer", "sasl.password": SECRET},
    }))
    return commands


def test_the_connections_bootstrap_and_sasl_reach_the_job(submitted: list[list[str]]) -> None:
    op = StreamJobOperator(task_id="stream_jobs", engine="flink", jobs=["running_totals"], action="submit",
                           mode="bounded", kafka_config_id="kafka_under_test")
    assert op.execute({})["running_totals"]["detail"] == {"jid": "f" * 32}
    (cmd,) = submitted
    assert cmd[cmd.index("--bootstrap-servers") + 1] == "kafka.example:19093"
    assert not any(SECRET in part for part in cmd), "a secret on the command line"
    props_file = Path(cmd[cmd.index("--kafka-config-file") + 1])
    assert stat.S_IMODE(props_file.stat().st_mode) == 0o600
    props = json.loads(props_file.read_text())
    assert props["security.protocol"] == "SASL_PLAINTEXT" and props["sasl.mechanism"] == "PLAIN"
    assert SECRET in props["sasl.jaas.config"] and "bootstrap.servers" not in props


def test_the_default_connections_are_the_providers_defaults() -> None:
    op = StreamJobOperator(task_id="t", jobs=["running_totals"])
    assert (op.kafka_config_id, op.flink_conn_id, op.kstreams_conn_id, op.spark_conn_id) == (
        "kafka_default", "flink_default", "kstreams_default", "spark_default")


def test_the_jobs_of_one_action_are_submitted_side_by_side(submitted: list[list[str]],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Each `flink run` client waits at a barrier of three: submitted one after another, none gets past it."""
    import threading

    barrier = threading.Barrier(3, timeout=10)

    def run(self: flink_jobs.Submission, timeout: float = 600) -> str:
        barrier.wait()
        return self.job[:1] * 32

    monkeypatch.setattr(flink_jobs.Submission, "run", run)
    op = StreamJobOperator(task_id="stream_jobs", engine="flink", jobs=list(flink_jobs.JOB_NAMES), action="submit",
                           mode="bounded", kafka_config_id="kafka_under_test")
    assert set(op.execute({})) == set(flink_jobs.JOB_NAMES)  # past the barrier: submitted side by side
