"""Continuous mode: start, crash, restart from the checkpoint, health, refusal of a second copy, clean stop."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest
from support import spark_testkit as kit

from streamstack import events
from streamstack.engines import State
from streamstack.settings import Settings
from streamstack.spark.control import SparkJobControl
from streamstack.spark.engine import SparkEngine
from streamstack.spark.jobs import submission
from streamstack.topics import TopicSpecs

pytestmark = pytest.mark.integration
JOB = "purchases_enrichment"


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def test_killed_job_restarts_from_checkpoint_and_accounts_for_every_input(
    kafka: Settings, kafka_config: dict, fresh_topics: TopicSpecs, tmp_path: Path, spark_jars: list
) -> None:
    t = fresh_topics
    settings = replace(kafka, state_dir=tmp_path / "state")
    engine = SparkEngine(settings, topics=t, checkpoint_dir=tmp_path / "checkpoints")
    control = engine.control
    kit.produce_catalogue(kafka_config, t["products"].name, kit.catalogue())
    purchases = kit.sample_purchases()
    kit.produce_purchases(kafka_config, t["purchases"].name, purchases)
    slow = ["--max-offsets-per-trigger", "40"]  # several micro-batches, so the kill lands mid-run
    try:
        control.start(JOB, interval="1 second", conf=kit.LIGHT_CONF, extra_args=slow)
        wait_for(lambda: (engine.status(JOB).detail["committed_batch"] or -1) >= 1, 120, "two committed batches")
        assert engine.status(JOB).lag.total > 0, "the job finished before it could be killed mid-run"
        assert control.kill(JOB)
        assert control.holder(JOB) is None

        pid = control.start(JOB, interval="1 second", conf=kit.LIGHT_CONF, extra_args=slow)
        assert control.holder(JOB).pid == pid
        more = [{**p, "transaction_id": f"55{i:05d}"} for i, p in enumerate(purchases[:30])]
        kit.produce_purchases(kafka_config, t["purchases"].name, more)

        # A second copy on the same checkpoint refuses to start (exit 75) and writes nothing.
        sub = submission(JOB, settings, topics=t, checkpoint_dir=control.checkpoint_dir, conf=kit.LIGHT_CONF)
        second = subprocess.run(sub.command(), env={**os.environ, **sub.env}, capture_output=True, text=True, timeout=120)
        assert second.returncode == 75, second.stderr[-2000:]
        assert "holds" in second.stdout + second.stderr

        status = wait_for(
            lambda: (s := engine.status(JOB)).lag.total == 0 and s.state == State.RUNNING and s, 180, "the lag to reach 0"
        )
        assert status.detail["pid"] == pid and status.detail["committed_batch"] >= 2
        assert control.stop(JOB, timeout=60)
    finally:
        control.stop(JOB, timeout=30)
    assert control.holder(JOB) is None
    progress = json.loads((control.checkpoint_dir / f"{JOB}.progress.json").read_text())
    assert progress["state"] == "stopped"

    records = kit.consume_all(kafka_config, t["purchases_enriched"].name)
    seen = [(json.loads(r["value"])["transaction_id"], json.loads(r["value"])["line_number"]) for r in records]
    expected = {(p["transaction_id"], p["line_number"]) for p in purchases + more}
    assert set(seen) == expected  # every input accounted for, nothing invented
    # At-least-once sink: only a batch cut off by the kill may be written twice (at most 40 rows).
    assert len(seen) - len(expected) <= 40
    assert kit.consume_all(kafka_config, t["purchases_invalid"].name) == []


def _enriched(kafka_config: dict, topic: str) -> dict[tuple[str, int], dict]:
    return kit.by_line(kit.consume_all(kafka_config, topic))


def test_product_published_while_running_is_joined_at_once(
    kafka: Settings, kafka_config: dict, fresh_topics: TopicSpecs, tmp_path: Path, spark_jars: list
) -> None:
    """A product first published after the job read its catalogue is joined at its first purchase.

    The snapshot refresh is set to 10 minutes, so only the re-read on a purchase with no product
    version can find it; a product outside the catalogue is a dead letter at once.
    """
    t = fresh_topics
    settings = replace(kafka, state_dir=tmp_path / "state")
    control = SparkJobControl(settings, topics=t, checkpoint_dir=tmp_path / "checkpoints")
    products = kit.catalogue()
    # A catalogue product whose first version is published only while the job runs.
    new_product = products[-1]
    kit.produce_catalogue(kafka_config, t["products"].name, products[:-1])
    purchases = [p for p in kit.sample_purchases() if p["product_id"] != new_product["product_id"]]
    kit.produce_purchases(kafka_config, t["purchases"].name, purchases[:10])
    late = {**purchases[0], "transaction_id": "4242424242", "product_id": new_product["product_id"],
            "price": new_product["price"]}
    late["total_purchase"] = events.total_purchase(late["price"], late["quantity"], late["supplement_price"],
                                                   late["member_discount"])
    unknown = {**purchases[1], "transaction_id": "4343434343", "product_id": "QQ00"}
    enriched_topic = t["purchases_enriched"].name
    try:
        control.start(JOB, interval="1 second", conf=kit.LIGHT_CONF, extra_args=["--catalogue-refresh", "600"])
        wait_for(lambda: len(_enriched(kafka_config, enriched_topic)) >= 10, 120, "the first purchases")

        kit.produce_catalogue(kafka_config, t["products"].name, [new_product])
        kit.produce_purchases(kafka_config, t["purchases"].name, [late])
        late_key = (late["transaction_id"], late["line_number"])
        got = wait_for(lambda: _enriched(kafka_config, enriched_topic).get(late_key), 60, new_product["product_id"])
        assert got == kit.expected_enriched(late, new_product)

        kit.produce_catalogue(kafka_config, t["products"].name, [{**new_product, "price": 10.99}])
        kit.produce_purchases(kafka_config, t["purchases"].name, [unknown])
        letters = wait_for(lambda: kit.consume_all(kafka_config, t["purchases_invalid"].name), 60, "a dead letter")
    finally:
        control.stop(JOB, timeout=30)
    (letter,) = [json.loads(r["value"]) for r in letters]
    assert letter["reason"] == "unknown_product: product_id 'QQ00' is not in the catalogue"
    assert json.loads(letter["payload"])["transaction_id"] == unknown["transaction_id"]
    assert len(_enriched(kafka_config, enriched_topic)) == 11
