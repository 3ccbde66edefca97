"""A simulated week against the real broker: demo.events keyed as declared, every event back exactly once.

The expected records are rebuilt without Kafka from the same seed, so a lost, duplicated,
re-ordered (one partition) or mis-keyed record fails the test.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest
from support.memory_sink import MemorySink

from streamstack.events import EVENT, INVENTORY, PRODUCT, PURCHASE
from streamstack.generator import build_model, build_simulation, load_catalogue, load_config, run_generator
from streamstack.generator.kafka import KafkaSink

pytestmark = pytest.mark.integration
START = date(2026, 3, 2)


def test_a_simulated_week_publishes_its_shop_events(kafka_config, fresh_topics, read_topic, check_schema) -> None:
    config = load_config(environ={})
    catalogue = load_catalogue(config.catalogue_file)

    def run(sink):
        model = build_model(config, catalogue, 2026)
        return run_generator(model, sink, mode="load", simulation=build_simulation(model, 7, START))

    summary = run(KafkaSink(kafka_config, fresh_topics, config.producer))
    expected = MemorySink()
    run(expected)
    assert summary.shop_events == len(expected.records["events"]) > 100

    events = read_topic(fresh_topics["events"].name)
    assert [json.loads(v) for _, v in events] == expected.records["events"]  # one partition: order kept
    for key, value in events:
        record = json.loads(value)
        check_schema(record, EVENT)
        assert key == record["subject"]
        if record["product_id"] is not None:
            assert key == record["product_id"]
    types = Counter(json.loads(v)["event_type"] for _, v in events)
    assert {"restock", "stockout", "lost_sale", "price_change", "cogs_change", "promotion_start", "promotion_end",
            "store_open", "store_close", "anomaly_start", "anomaly_end"} <= set(types)

    purchases = read_topic(fresh_topics["purchases"].name)
    assert Counter(v for _, v in purchases) == Counter(expected.records["purchases"])
    for _, value in purchases[:500]:
        check_schema(json.loads(value), PURCHASE)
    products = [json.loads(v) for _, v in read_topic(fresh_topics["products"].name)]
    assert products == expected.records["products"] and len(products) > 27
    for record in products:
        check_schema(record, PRODUCT)
    assert products[0]["event_time"] == "2026-03-02 00:00:00.000000"
    inventories = [json.loads(v) for _, v in read_topic(fresh_topics["inventories"].name)]
    assert inventories == expected.records["inventories"] and len(inventories) == types["restock"]
    for record in inventories:
        check_schema(record, INVENTORY)
