"""`airflow dags test purchases_quality` with the Kafka source against the real broker, and on Pinot.

A clean window succeeds with the summary in the log; a corrupted one fails the task, naming the
expectation. Topics get a unique suffix (STREAMSTACK_TOPICS_FILE), so nothing shared is read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from streamstack.clients import admin_client, producer
from streamstack.pinot import PinotClient
from streamstack.pinot.ingestion import wait_caught_up
from streamstack.pinot.tables import apply_specs, load_specs
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
    assert "[critical] total_mismatch(total_purchase)" in out, out[-4000:]
    assert "bad row p" in out, out[-4000:]
    assert "state=failed" in out, out[-4000:]


def test_the_gate_on_the_pinot_source_fails_a_run_naming_the_expectation(kafka: Settings, pinot: PinotClient) -> None:
    """The DAG's default source: the stack's own purchasesEnriched table (the tests' stack).

    The corrupted lines are dated in an hour two days back, so no other test's window meets them;
    the run is for that hour (its logical date), as a scheduled run of it would be. The platform's
    ``batch_accounted`` task then counts that hour in Pinot through the Airflow connections: a
    batch of one line more than arrived fails it.
    """
    end = (datetime.now(UTC) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    declared = load_topics(kafka.topics_file)
    TopicAdmin(kafka.kafka_client_config()).apply(declared)
    specs = {s.name: s for s in load_specs(kafka.config_dir / "pinot", declared.names(), kafka.bootstrap_servers,
                                           ["purchasesEnriched", "deadLetters"])}
    apply_specs(pinot, specs.values())
    spec = specs["purchasesEnriched"]
    frame = synthetic_purchases(60, load_catalogue(kafka.config_dir / "products.csv"), end=end, seed=11)
    frame["transaction_id"] = [f"qgate-{uuid.uuid4().hex[:12]}" for _ in range(len(frame))]
    frame.loc[3, "total_purchase"] = 123.45
    p = producer(kafka.kafka_client_config())
    for record in frame.to_dict(orient="records"):
        p.produce(spec.topic, key=record["transaction_id"], value=json.dumps(record))
    assert p.flush(30) == 0
    wait_caught_up(pinot, spec, kafka.kafka_client_config(), timeout=180)
    conf = json.dumps({"source": "pinot", "window_minutes": 60, "max_age_hours": 24 * 7})
    proc = subprocess.run([STREAMSTACK, "airflow", "dags", "test", "purchases_quality", end.isoformat(), "-c", conf],
                          capture_output=True, text=True, timeout=400, check=False)
    out = proc.stdout + proc.stderr
    assert "checking pinot enriched purchases in [" in out, out[-4000:]
    assert "[critical] total_mismatch(total_purchase)" in out, out[-4000:]
    assert "rows checked: 60" in out, out[-4000:]
    assert "state=failed" in out, out[-4000:]

    from airflow.exceptions import AirflowFailException

    from streamstack.providers.pinot.tasks import check_batch_accounted

    hour = {"started_at": (end - timedelta(hours=1)).isoformat(), "finished_at": end.isoformat()}
    assert check_batch_accounted({**hour, "purchases": 60})["complete"] is True
    with pytest.raises(AirflowFailException, match=r"did not reach Pinot: the run's 61 purchase lines .*: 60 enriched rows"):
        check_batch_accounted({**hour, "purchases": 61})
