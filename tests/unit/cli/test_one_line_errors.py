"""Finding #8: what the CLI says when things are wrong: one line, the right words, the right exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from streamstack.engines import State
from streamstack.pinot.client import PinotClient
from streamstack.settings import Settings
from streamstack.spark.lock import job_paths
from streamstack.topics.offsets import Lag

STREAMSTACK = str(Path(sys.executable).parent / "streamstack")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "STREAMSTACK_STATE_DIR": str(tmp_path / "state"), **env}
    return subprocess.run([STREAMSTACK, *args], env=environ, capture_output=True, text=True, timeout=120)


def test_engine_status_with_kafka_down_is_one_line(tmp_path: Path) -> None:
    proc = _run(["engine", "status", "--engine", "spark", "purchases_enrichment"], tmp_path, STREAMSTACK_KAFKA_PORT=str(_free_port()))
    assert proc.returncode == 1, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Kafka" in lines[0], proc.stderr[-3000:]


def test_generate_with_speed_nan_is_refused_before_publishing(tmp_path: Path) -> None:
    out = tmp_path / "sales.jsonl"
    proc = _run(["generate", "-n", "3", "--speed", "nan", "-o", str(out)], tmp_path)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "--speed" in proc.stderr, proc.stderr[-3000:]
    assert not out.exists(), "records were written before the bad option was refused"


def test_spark_status_after_a_crash_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The progress file still says running, but no driver holds the lock: the job died."""
    from streamstack.spark.engine import SparkEngine

    monkeypatch.setattr("streamstack.spark.engine.lag", lambda *args: Lag())
    engine = SparkEngine(Settings.from_env(), checkpoint_dir=tmp_path)
    progress = job_paths(tmp_path, "purchases_enrichment")["progress"]
    progress.write_text('{"state": "running", "mode": "processing-time"}')
    crashed = engine.status("purchases_enrichment")
    assert crashed.state == State.FAILED and "killed" in crashed.line(), crashed.line()
    progress.write_text('{"state": "stopped", "mode": "processing-time"}')
    assert engine.status("purchases_enrichment").state == State.STOPPED


class _Session:
    def __init__(self) -> None:
        self.writes: list[str] = []

    def request(self, method: str, url: str, **kwargs: object):
        class R:
            status_code, ok, text = 200, True, "{}"

            @staticmethod
            def json() -> dict:
                if "/schemas/" in url:
                    return {"schemaName": "s", "dimensionFieldSpecs": [{"name": "old", "dataType": "STRING"}]}
                return {}

        if method != "GET":
            self.writes.append(method)
        return R()


def test_pinot_dry_run_says_would() -> None:
    client = PinotClient("http://c:9000", "http://b:8099")
    client.session = _Session()  # type: ignore[assignment]
    change = client.apply_schema({"schemaName": "s", "dimensionFieldSpecs": [{"name": "a", "dataType": "STRING"}]}, dry_run=True)
    assert "would update" in change.line(), change.line()
    assert client.session.writes == []  # type: ignore[attr-defined]


def test_stack_status_of_a_stopped_stack_is_not_an_error(tmp_path: Path) -> None:
    ports = {k: str(_free_port()) for k in (
        "STREAMSTACK_KAFKA_PORT", "STREAMSTACK_PINOT_ZK_PORT", "STREAMSTACK_PINOT_CONTROLLER_PORT",
        "STREAMSTACK_PINOT_BROKER_PORT", "STREAMSTACK_PINOT_SERVER_ADMIN_PORT", "STREAMSTACK_AIRFLOW_PORT")}
    proc = _run(["stack", "status"], tmp_path, **ports)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    states = [line.split()[1] for line in proc.stdout.splitlines() if not line.startswith(" ")]
    from streamstack.stack.stack import SERVICE_FACTORIES

    assert states == ["stopped"] * len(SERVICE_FACTORIES), proc.stdout
