"""Flink through the engine protocol, across workers: a stop issued by a second worker process
(another cwd, another state dir, the same state store) takes a savepoint that the first worker's
next submission resumes from, losing and duplicating nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import flink_testkit as tk
from support.services import created_topics

from streamstack import engines
from streamstack.flink.config import FlinkConfig
from streamstack.flink.engine import FlinkEngine
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs

pytestmark = pytest.mark.integration

#: The second worker: builds its own engine from its own environment and stops the job.
WORKER = """
import json, sys
from streamstack.flink.engine import FlinkEngine
from streamstack.topics import load_topics
topics = load_topics().suffixed(sys.argv[1])
status = FlinkEngine(topics=topics, suffix=sys.argv[2]).stop("running_totals")
print(json.dumps(status.as_dict()))
"""


@pytest.fixture
def topics(kafka: Settings) -> Iterator[TopicSpecs]:
    yield from created_topics(kafka, "w")


def test_a_stop_from_another_worker_leaves_a_savepoint_the_first_resumes_from(
    kafka: Settings, flink: FlinkConfig, topics: TopicSpecs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "shared-store"
    monkeypatch.setenv("STREAMSTACK_STATE_STORE", str(store))
    config, suffix = kafka.kafka_client_config(), uuid.uuid4().hex[:8]
    topic_suffix = topics["purchases"].name.rsplit(".", 1)[-1]
    engine = FlinkEngine(cfg=flink, kafka_config=config, topics=topics, suffix=suffix)
    base = tk.base_time()
    first, second = tk.batch(0, 150, base), tk.batch(150, 150, base)
    tk.produce(config, topics["purchases"].name, first, key="transaction_id", partition_of=lambda i: i % 3)
    engine.submit(["running_totals"], engines.Mode.CONTINUOUS)
    try:
        engines.wait(engine, ["running_totals"], engines.Mode.CONTINUOUS, timeout=300)
        tk.poll_until(lambda: tk.totals_match(config, topics["running_totals"].name, first), 300, "totals of batch 1")

        other = tmp_path / "worker-2"
        other.mkdir()
        env = {**os.environ, "STREAMSTACK_STATE_STORE": str(store), "STREAMSTACK_STATE_DIR": str(other / "state")}
        out = subprocess.run([sys.executable, "-c", WORKER, topic_suffix, suffix], cwd=other, env=env,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        stopped = json.loads(out.stdout.strip().splitlines()[-1])
        assert stopped["state"] == "STOPPED" and stopped["detail"]["savepoint"], stopped

        here = engine.status("running_totals")  # the first worker sees the second one's savepoint
        assert here.state == engines.State.STOPPED and here.detail["savepoint"] == stopped["detail"]["savepoint"]
        tk.produce(config, topics["purchases"].name, second, key="transaction_id", partition_of=lambda i: i % 3)
        resumed = engine.submit(["running_totals"], engines.Mode.CONTINUOUS)["running_totals"]
        assert resumed.state in (engines.State.STARTING, engines.State.RUNNING), resumed.line()
        tk.poll_until(lambda: tk.totals_match(config, topics["running_totals"].name, first + second), 300,
                      "totals of both batches after resuming from the other worker's savepoint")
    finally:
        engine.stop("running_totals")
