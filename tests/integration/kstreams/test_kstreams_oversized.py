"""The enrichment app, running, on the real broker: records it must not pass on whole do not stop it.

One 600,000-byte record of ``"`` once put the app into ERROR: its dead letter carried the payload
escaped (1.2 MB) and the broker refused it. Now a record over ``records.max_bytes`` is dead-lettered
``too_large`` unparsed and every dead letter's payload is bounded (config/contract.yaml), so the app
writes one small dead letter per bad record, stays RUNNING and enriches what comes after.

~1 min on a loaded 2-core box (JVM start-up and Kafka Streams' first rebalance).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from support.kstreams_testkit import APP, product, publish, purchase, wait_for

from streamstack.contract import dead_letter_payload, load_contract, product_ids
from streamstack.kstreams.control import KStreamsControl
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs
from streamstack.topics.offsets import read_to_end

pytestmark = pytest.mark.integration
#: A dead letter stays far below the broker's 1 MB: its payload is at most payload_max_chars code points.
BOUND = 32 * 1024


@pytest.fixture
def control(kafka: Settings, fresh_topics: TopicSpecs, tmp_path: Path) -> KStreamsControl:
    ctl = KStreamsControl(kafka, topics=fresh_topics, run_dir=tmp_path / "run",
                          application_ids={APP: f"it-oversized-{uuid.uuid4().hex[:8]}"}, ports={APP: 0})
    yield ctl
    ctl.stop(APP)
    ctl.reset(APP)


def test_oversized_binary_and_empty_records_are_bounded_dead_letters_and_the_app_keeps_enriching(
    kafka: Settings, fresh_topics: TopicSpecs, control: KStreamsControl
) -> None:
    contract = load_contract()
    config = kafka.kafka_client_config()
    pid = product_ids(contract)[0]
    publish(config, fresh_topics["products"].name, [(pid, json.dumps(product(pid)).encode())])
    assert control.start(APP).state == "RUNNING"

    bad = [b'"' * 600_000, b"\xff\xfe\x00binary\x80\xc3", b""]
    publish(config, fresh_topics["purchases"].name, [(f"bad-{i}", value) for i, value in enumerate(bad)])
    after = purchase(pid, "20261201100000", "2026-12-01 10:00:00.000000")
    # Sent once the bad ones were dead-lettered: the app must still be there to enrich it.
    dead = wait_for(config, fresh_topics["purchases_invalid"].name, len(bad))
    publish(config, fresh_topics["purchases"].name, [(after["transaction_id"], json.dumps(after).encode())])
    enriched = wait_for(config, fresh_topics["purchases_enriched"].name, 1)

    assert len(dead) == len(bad)
    by_value = {}
    for record in dead:
        assert len(record["value"]) < BOUND, f"a dead letter of {len(record['value'])} bytes"
        letter = json.loads(record["value"])
        by_value[letter["payload_sha256"]] = letter
    codes = {"too_large": [], "not_json": []}
    for value in bad:
        want = dead_letter_payload(value, contract)
        letter = by_value[want["payload_sha256"]]
        assert {name: letter[name] for name in want} == want
        assert type(letter["payload_bytes"]) is int and type(letter["payload_truncated"]) is bool
        assert letter["source_topic"] == fresh_topics["purchases"].name
        codes[letter["reason"].split(":")[0]].append(len(value))
    assert codes == {"too_large": [600_000], "not_json": [len(bad[1]), 0]}

    assert len(enriched) == 1
    row = json.loads(enriched[0]["value"])
    assert (row["transaction_id"], row["product_id"], row["product_name"]) == (after["transaction_id"], pid, "Sunny Day")
    assert len(read_to_end(config, fresh_topics["purchases_invalid"].name)) == len(bad)  # the valid one is no dead letter
    assert control.health(APP).state == "RUNNING" and control.input_lag(APP).total == 0
