"""A bounded run of the enrichment drains what an earlier run left in its repartition topic.

The app re-keys purchases by product into an internal repartition topic and joins them after it.
Under exactly-once, the re-keyed records become readable only when the transaction that also
commits the purchases' offsets commits, so an app stopped right after a commit leaves them in the
repartition topic, unjoined, with nothing left to read on its inputs. A bounded run that waited
for its inputs only stopped at once and left them there (CI: the live fault test's last lines
never reached the enriched topic). The continuous run here commits only when it closes, so the
backlog is certain.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from support.kstreams_testkit import APP, product, publish, purchase, wait_for

from streamstack.contract import load_contract, product_ids
from streamstack.kstreams.control import KStreamsControl
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs

pytestmark = pytest.mark.integration
LINES = 5


def _control(kafka: Settings, topics: TopicSpecs, run_dir: Path, app_id: str, args: list[str]) -> KStreamsControl:
    return KStreamsControl(kafka, topics=topics, run_dir=run_dir, application_ids={APP: app_id}, ports={APP: 0},
                           app_args={APP: args})


def test_a_bounded_run_joins_the_repartitioned_lines_an_earlier_run_left(
    kafka: Settings, fresh_topics: TopicSpecs, tmp_path: Path
) -> None:
    config = kafka.kafka_client_config()
    pid = product_ids(load_contract())[0]
    app_id = f"it-backlog-{uuid.uuid4().hex[:8]}"
    publish(config, fresh_topics["products"].name, [(pid, json.dumps(product(pid)).encode())])
    lines = [purchase(pid, f"2026120110000{i}", f"2026-12-01 10:00:0{i}.000000") for i in range(LINES)]
    publish(config, fresh_topics["purchases"].name, [(p["transaction_id"], json.dumps(p).encode()) for p in lines])

    # A commit interval longer than the test: the re-keyed lines commit only when the app closes.
    continuous = _control(kafka, fresh_topics, tmp_path / "continuous", app_id, ["--commit-interval-ms", "300000"])
    try:
        continuous.start(APP)
        deadline = time.monotonic() + 120
        progress: dict = {}
        while time.monotonic() < deadline:
            progress = continuous._get(APP, "/health")[1].get("progress") or {}
            if progress.get("repartitioned") == LINES:
                break
            time.sleep(0.2)
        assert progress.get("repartitioned") == LINES and progress.get("joined") == 0, progress
    finally:
        continuous.stop(APP)
    behind = continuous.input_lag(APP).behind
    assert sum(behind[fresh_topics["purchases"].name].values()) == 0, behind  # every purchase read
    assert sum(behind[f"{app_id}-purchases-by-product-repartition"].values()) > LINES, behind  # the backlog is lag

    bounded = _control(kafka, fresh_topics, tmp_path / "bounded", app_id, [])
    try:
        bounded.run_bounded(APP, timeout=180)
        enriched = wait_for(config, fresh_topics["purchases_enriched"].name, 0)
        assert sorted(json.loads(r["value"])["transaction_id"] for r in enriched) == [
            p["transaction_id"] for p in lines]
        assert bounded.input_lag(APP).total == 0
    finally:
        bounded.reset(APP)
