"""The generator against the real broker: every event back exactly once, valid, keyed right.

Each test has topics of its own (``fresh_topics``); the expected events are rebuilt
independently from the same seed, so a lost, duplicated or altered record fails the test.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from streamstack.clients import admin_client
from streamstack.events import INVALID_PURCHASE, INVENTORY, PRODUCT, PURCHASE
from streamstack.generator import (
    DeliveryError,
    GeneratorError,
    PurchaseEncoder,
    ReplayError,
    build_model,
    run_generator,
)
from streamstack.generator.kafka import KafkaSink
from streamstack.generator.replay import replay
from streamstack.topics import TopicSpecs

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample_date_new.json"
START = datetime(2024, 2, 1, 12, 0, tzinfo=UTC)


def _sink(kafka_config: dict, topics: TopicSpecs, config) -> KafkaSink:
    return KafkaSink(kafka_config, topics, config.producer)


def test_every_generated_event_comes_back_exactly_once(kafka_config, fresh_topics, read_topic, config,
                                                      catalogue, check_schema) -> None:
    summary = run_generator(build_model(config, catalogue, 4242, start_time=START),
                            _sink(kafka_config, fresh_topics, config), mode="load", transactions=20_000)
    assert summary.transactions == 20_000 and summary.inventories > 0

    # The same run rebuilt without Kafka: what the topics must hold, no more, no less.
    model = build_model(config, catalogue, 4242, start_time=START)
    encoder = PurchaseEncoder(config, catalogue)
    expected_purchases: list[bytes] = []
    expected_restocks: list[dict] = []
    for i in range(20_000):
        if i:
            model.clock.advance(model.draw_interval())
        tx = model.next_transaction()
        expected_purchases.extend(encoder.encode(tx))
        expected_restocks.extend(tx.restocks)

    purchases = read_topic(fresh_topics["purchases"].name)
    assert len(purchases) == summary.purchases == len(expected_purchases)
    assert Counter(value for _, value in purchases) == Counter(expected_purchases)
    identities = Counter()
    for key, value in purchases:
        record = json.loads(value)
        check_schema(record, PURCHASE)
        assert key == record["transaction_id"]
        identities[(record["transaction_id"], record["line_number"])] += 1
    assert max(identities.values()) == 1

    products = read_topic(fresh_topics["products"].name)
    assert len(products) == 27
    for key, value in products:
        record = json.loads(value)
        check_schema(record, PRODUCT)
        assert key == record["product_id"]

    inventories = read_topic(fresh_topics["inventories"].name)
    assert [json.loads(v) for _, v in inventories] == expected_restocks  # one partition: order kept
    for key, value in inventories:
        record = json.loads(value)
        check_schema(record, INVENTORY)
        assert key == record["product_id"]


def test_lines_of_a_transaction_share_a_partition(kafka_config, fresh_topics, config, catalogue, read_topic) -> None:
    """Keyed by transaction_id with the Java client's partitioner, a transaction is never split."""
    from streamstack.topics.offsets import read_to_end

    run_generator(build_model(config, catalogue, 7), _sink(kafka_config, fresh_topics, config), mode="load",
                  transactions=2_000)
    records = read_to_end(kafka_config, fresh_topics["purchases"].name)  # to the end, or fails in 60 s
    partitions: dict[str, set[int]] = {}
    for record in records:
        partitions.setdefault(record["key"], set()).add(record["partition"])
    assert len(records) >= 2_000
    assert len({p for ps in partitions.values() for p in ps}) == fresh_topics["purchases"].partitions
    assert all(len(ps) == 1 for ps in partitions.values())


def test_replay_of_the_sample_yields_exactly_its_307_lines(kafka_config, fresh_topics, read_topic, config,
                                                          catalogue, check_schema) -> None:
    summary = replay(SAMPLE, _sink(kafka_config, fresh_topics, config),
                     known_products={p.product_id for p in catalogue.products})
    assert summary.purchases == 307
    out = read_topic(fresh_topics["purchases"].name)
    assert len(out) == 307
    original = json.loads(SAMPLE.read_text())
    records = [json.loads(v) for _, v in out]
    for record in records:
        check_schema(record, PURCHASE)
    assert sorted(json.dumps({k: v for k, v in r.items() if k != "line_number"}, sort_keys=True) for r in records) \
        == sorted(json.dumps(r, sort_keys=True) for r in original)
    assert len({(r["transaction_id"], r["line_number"]) for r in records}) == 307
    assert read_topic(fresh_topics["purchases_invalid"].name) == []


def test_bad_records_go_to_the_dead_letter_topic_or_stop_the_replay(kafka_config, fresh_topics, read_topic,
                                                                   config, tmp_path, check_schema) -> None:
    lines = SAMPLE.read_text()
    good = json.loads(lines)[:5]
    bad_total = {**good[0], "transaction_id": "42", "total_purchase": 1.0}
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([*(json.dumps(r) for r in good[:3]), "{not json", json.dumps(bad_total),
                               *(json.dumps(r) for r in good[3:])]) + "\n")

    with pytest.raises(ReplayError) as err:
        replay(path, _sink(kafka_config, fresh_topics, config))
    assert [(p.position, p.reason[:12]) for p in err.value.problems] == [(4, "invalid JSON"), (5, "total_mismat")]
    assert read_topic(fresh_topics["purchases"].name) == []  # nothing half-published

    summary = replay(path, _sink(kafka_config, fresh_topics, config), send_dead_letters=True)
    assert (summary.purchases, summary.dead_letters) == (5, 2)
    assert len(read_topic(fresh_topics["purchases"].name)) == 5
    letters = [json.loads(v) for _, v in read_topic(fresh_topics["purchases_invalid"].name)]
    for letter in letters:
        check_schema(letter, INVALID_PURCHASE)
    assert [letter["source_offset"] for letter in letters] == [4, 5]
    assert letters[0]["payload"] == "{not json" and "total_mismatch" in letters[1]["reason"]


def test_a_rejected_record_raises_instead_of_vanishing(kafka_config, fresh_topics, config) -> None:
    """The broker refuses records above the topic's max.message.bytes: the run must fail loudly."""
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource

    topic = fresh_topics["purchases"].name
    admin = admin_client(kafka_config)
    resource = ConfigResource("topic", topic, incremental_configs=[
        ConfigEntry("max.message.bytes", "200", incremental_operation=AlterConfigOpType.SET)])
    for future in admin.incremental_alter_configs([resource]).values():
        future.result()
    sink = KafkaSink(kafka_config, fresh_topics, {**config.producer, "compression.type": "none", "linger.ms": 0})
    sink.send_purchase("1", b"x" * 1000)
    with pytest.raises(DeliveryError, match="0 of 1 records landed.*1 refused, first: .*(too large|TOO_LARGE)"):
        sink.close()


def test_missing_topics_are_reported_before_producing(kafka_config, fresh_topics, config) -> None:
    from dataclasses import replace

    missing = TopicSpecs(file=fresh_topics.file, topics=tuple(
        replace(t, name=t.name + ".missing") for t in fresh_topics.topics))
    with pytest.raises(GeneratorError, match="do not exist.*streamstack topics apply"):
        KafkaSink(kafka_config, missing, config.producer)


def test_airflow_task_function_through_kafka_default(fresh_topics, read_topic) -> None:
    from streamstack.providers.generator.operators import generate_sales

    summary = generate_sales(transactions=300, mode="load", seed=11, topics=fresh_topics)
    assert summary["transactions"] == 300 and summary["seed"] == 11
    assert len(read_topic(fresh_topics["purchases"].name)) == summary["purchases"]
