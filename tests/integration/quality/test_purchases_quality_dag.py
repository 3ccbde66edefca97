"""`airflow dags test purchases_quality` with the Kafka source against the real broker.

A clean window succeeds with the summary in the log; a corrupted one fails the task, naming the
expectation. Topics get a unique suffix (STREAMSTACK_TOPICS_FILE), so nothing shared is read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from streamstack.clients import admin_client, producer
from streamstack.quality.catalogue import load_catalogue
from streamstack.quality.synthetic import synthetic_purchases
from streamstack.settings import Settings
from streamstack.topics import TopicAdmin, TopicSpecs, load_topics

pytestmark = pytest.mark.integration
STREAMSTACK = str(Path(sys.executable).parent / "streamstack")


@pytest.fixture
def topics_file(kafka: Settings, tmp_path: Path):
    suffix = uuid.uuid4().hex[:8]
    data = yaml.safe_load(kafka.topics_file.read_text())
    data["topics"]["purchases_enriched"]["name"] += f".q{suffix}"
    path = tmp_path / "topics.yaml"
    path.write_text(yaml.safe_dump(data))
    specs = _enriched(path)
    TopicAdmin(kafka.kafka_client_config()).apply(specs)
    yield path
    admin = admin_client(kafka.kafka_client_config())
    for future in admin.delete_topics([s.name for s in specs.topics], operation_timeout=30).values():
        future.result()


def _enriched(path: Path) -> TopicSpecs:
    """Only the enriched topic of the file (the others keep their names and are not touched)."""
    declared = load_topics(path)
    return TopicSpecs(
        file=declared.file, topics=tuple(s for s in declared.topics if s.logical == "purchases_enriched")
    )


def _produce(kafka: Settings, topics_file: Path, corrupt: bool) -> None:
    (spec,) = _enriched(topics_file).topics
    frame = synthetic_purchases(
        200, load_catalogue(kafka.config_dir / "products.csv"), end=datetime.now(UTC), seed=9
    )
    if corrupt:
        frame.loc[7, "total_purchase"] = 123.45
    p = producer(kafka.kafka_client_config())
    for record in frame.to_dict(orient="records"):
        p.produce(spec.name, key=record["transaction_id"], value=json.dumps(record))
    assert p.flush(30) == 0


def _dags_test(topics_file: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "STREAMSTACK_TOPICS_FILE": str(topics_file)}
    conf = json.dumps({"source": "kafka", "window_minutes": 90})
    return subprocess.run(
        [STREAMSTACK, "airflow", "dags", "test", "purchases_quality", "-c", conf],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )


def test_clean_window_succeeds(kafka: Settings, topics_file: Path) -> None:
    _produce(kafka, topics_file, corrupt=False)
    proc = _dags_test(topics_file)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "state=success" in out, out[-4000:]
    assert "quality PASSED" in out and "rows checked: 200" in out, out[-4000:]
    assert "Data Docs: " in out, out[-4000:]


def test_critical_failure_fails_the_task_naming_the_expectation(kafka: Settings, topics_file: Path) -> None:
    _produce(kafka, topics_file, corrupt=True)
    out = (lambda p: p.stdout + p.stderr)(_dags_test(topics_file))
    assert "[critical] total_purchase_matches_formula" in out, out[-4000:]
    assert "bad row p" in out, out[-4000:]
    assert "state=failed" in out, out[-4000:]
