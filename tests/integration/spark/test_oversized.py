"""Continuous enrichment meets records it cannot parse or pass on whole, and keeps running.

600,000 ``"`` bytes once stopped the job for good: their dead letter escaped to 1.2 MB, over the
broker's limit, and every restart failed on the same record. The contract (``records.max_bytes``,
``dead_letters``) bounds them; this runs the real job against the real broker.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest
from support import spark_testkit as kit

from streamstack import contract as rules
from streamstack import events
from streamstack.engines import State
from streamstack.settings import Settings
from streamstack.spark.engine import SparkEngine
from streamstack.topics import TopicSpecs

pytestmark = pytest.mark.integration
JOB = "purchases_enrichment"
#: What a broker accepts by default (message.max.bytes); every dead letter must stay far below.
BOUND = 16 * 1024


def _wait_while_running(engine: SparkEngine, predicate, timeout: float, what: str):
    """``predicate()`` once truthy; fails at once, with the job's log, if the job stops meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if engine.status(JOB).state != State.RUNNING:
            log = engine.control.log_file(JOB).read_text(errors="replace")[-3000:]
            raise AssertionError(f"{JOB} stopped while waiting for {what}:\n{log}")
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def test_oversized_binary_and_empty_records_are_bounded_dead_letters_and_the_query_goes_on(
    kafka: Settings, kafka_config: dict, fresh_topics: TopicSpecs, tmp_path: Path, spark_jars: list
) -> None:
    t = fresh_topics
    contract = rules.load_contract()
    engine = SparkEngine(replace(kafka, state_dir=tmp_path / "state"), topics=t,
                         checkpoint_dir=tmp_path / "checkpoints")
    control = engine.control
    products = kit.catalogue()
    kit.produce_catalogue(kafka_config, t["products"].name, products)
    purchases = kit.sample_purchases()
    kit.produce_purchases(kafka_config, t["purchases"].name, purchases[:3])
    bad = {
        "too_large": b'"' * 600_000,
        "not_json binary": b"\xff\xfe\x00binary\x80\xc3",
        "not_json empty": b"",
    }
    after = {**purchases[3], "transaction_id": "6060606060"}
    after_key = (after["transaction_id"], after["line_number"])
    enriched_topic, invalid_topic = t["purchases_enriched"].name, t["purchases_invalid"].name
    try:
        control.start(JOB, interval="1 second", conf=kit.LIGHT_CONF)
        _wait_while_running(engine, lambda: len(kit.consume_all(kafka_config, enriched_topic)) >= 3, 120,
                            "the first purchases")
        kit.produce(kafka_config, t["purchases"].name, [(None, value) for value in bad.values()])
        kit.produce_purchases(kafka_config, t["purchases"].name, [after])
        # Written is not enough (a failed batch's other tasks may have written theirs): the batch
        # must be committed, i.e. the job's lag back to 0, with the job still running.
        _wait_while_running(engine, lambda: engine.status(JOB).lag.total == 0
                            and after_key in kit.by_line(kit.consume_all(kafka_config, enriched_topic)), 120,
                            "the purchase sent after the bad records, committed")
        assert engine.status(JOB).state == State.RUNNING
    finally:
        control.stop(JOB, timeout=30)

    by_id = {p["product_id"]: p for p in products}
    got = kit.by_line(kit.consume_all(kafka_config, enriched_topic))[after_key]
    assert got == kit.expected_enriched(after, by_id[after["product_id"]])
    records = kit.consume_all(kafka_config, invalid_topic)
    assert len(records) == len(bad), [json.loads(r["value"])["reason"][:80] for r in records]
    letters = {json.loads(r["value"])["payload_sha256"]: (r, json.loads(r["value"])) for r in records}
    for what, value in bad.items():
        expected = rules.dead_letter_payload(value, contract)
        record, letter = letters[expected["payload_sha256"]]
        assert len(record["value"].encode()) < BOUND, (what, len(record["value"]))
        assert list(letter) == events.field_names(events.INVALID_PURCHASE)
        assert letter["reason"].split(":")[0] == what.split()[0], (what, letter["reason"][:200])
        # Equal in value and JSON type (False is no 0, a byte count no float).
        assert {k: (type(letter[k]), letter[k]) for k in expected} == {k: (type(x), x) for k, x in expected.items()}, what
        assert letter["source_topic"] == t["purchases"].name
        assert letter["rejected_by"] == f"spark.{JOB}"
