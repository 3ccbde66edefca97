"""`airflow dags test kafka_topics` against the real broker, three times in a row."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from streamstack.clients import admin_client
from streamstack.settings import Settings
from streamstack.topics import TopicAdmin, load_topics

pytestmark = pytest.mark.integration
STREAMSTACK = str(Path(sys.executable).parent / "streamstack")


@pytest.fixture
def topics_file(kafka: Settings, tmp_path: Path):
    """config/topics.yaml with unique names, so the DAG creates topics of its own."""
    suffix = uuid.uuid4().hex[:8]
    data = yaml.safe_load(kafka.topics_file.read_text())
    for topic in data["topics"].values():
        topic["name"] = f"{topic['name']}.dag{suffix}"
    path = tmp_path / "topics.yaml"
    path.write_text(yaml.safe_dump(data))
    yield path
    names = [s.name for s in load_topics(path)]
    admin = admin_client(kafka.kafka_client_config())
    existing = admin.list_topics(timeout=10).topics
    doomed = [n for n in names if n in existing]
    if doomed:
        for future in admin.delete_topics(doomed, operation_timeout=30).values():
            future.result()


def run_dag(topics_file: Path) -> str:
    env = {**os.environ, "STREAMSTACK_TOPICS_FILE": str(topics_file)}
    proc = subprocess.run(
        [STREAMSTACK, "airflow", "dags", "test", "kafka_topics"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "state=success" in out, out[-4000:]
    return out


def test_dag_creates_then_is_idempotent(kafka: Settings, topics_file: Path) -> None:
    specs = load_topics(topics_file)
    outputs = [run_dag(topics_file) for _ in range(2)]  # idempotent: the second run changes nothing
    assert re.search(rf"{len(specs.topics)} change\(s\), 0 topic\(s\) unchanged", outputs[0])
    for out in outputs[1:]:
        assert re.search(rf"0 change\(s\), {len(specs.topics)} topic\(s\) unchanged", out)
    states = TopicAdmin(kafka.kafka_client_config()).describe(s.name for s in specs)
    assert all(state is not None for state in states)
