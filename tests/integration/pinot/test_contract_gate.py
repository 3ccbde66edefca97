"""Finding #5: no purchase the event contract rejects reaches a Pinot table or a named query.

Raw purchases (valid, legacy, and four the contract rejects) go through the real Spark
enrichment into real Pinot. The raw ``purchases`` table reads validated purchases only and
de-duplicates like ``purchasesEnriched``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import spark_testkit as kit

from streamstack.clients import producer
from streamstack.pinot import PinotClient
from streamstack.pinot.ingestion import wait_caught_up
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs

pytestmark = pytest.mark.integration


def test_rejected_purchases_never_reach_pinot_and_the_raw_table_dedups(
    kafka: Settings, kafka_config: dict, fresh_topics: TopicSpecs, pinot: PinotClient, pinot_tables: dict, tmp_path: Path
) -> None:
    t = fresh_topics
    good = kit.sample_purchases()[:40]
    legacy = {k: v for k, v in {**good[1], "transaction_id": "900000"}.items() if k != "line_number"}
    bad = [
        {**good[0], "transaction_id": "900001", "quantity": 10**12},
        {**good[0], "transaction_id": "900002", "product_id": "XX99"},
        {**good[0], "transaction_id": "900003", "total_purchase": 999.99},
    ]
    kit.produce_catalogue(kafka_config, t["products"].name, kit.catalogue())
    kit.produce_purchases(kafka_config, t["purchases"].name, [*good, legacy, *bad])
    kit.run_job("purchases_enrichment", kafka, t, tmp_path / "checkpoints")
    enriched = kit.consume_all(kafka_config, t["purchases_enriched"].name)
    assert len(enriched) == len(good) + 1, "the enrichment itself let a rejected purchase through"

    table = pinot_tables["purchases"]
    assert table.topic == t["purchases_enriched"].name, "the raw table must read validated purchases"
    wait_caught_up(pinot, table, kafka_config, timeout=180)

    # A second delivery of every validated purchase (a restarted job re-writing a batch: same key,
    # so the same partition, which Pinot's per-partition de-duplication relies on) changes nothing.
    again = producer(kafka_config)
    for r in enriched:
        again.produce(t["purchases_enriched"].name, key=r["key"], value=r["value"], partition=r["partition"])
    assert again.flush(30) == 0
    wait_caught_up(pinot, table, kafka_config, timeout=180)

    (row,) = pinot.query(
        f"SELECT COUNT(*) AS n, MIN(line_number) AS min_line, MAX(quantity) AS max_qty, "
        f"SUM(quantity) AS qty FROM {table.name}"
    )
    assert row["n"] == len(good) + 1, row
    assert row["min_line"] >= 1, row  # a missing line_number would be Pinot's INT default -2147483648
    assert row["max_qty"] < 1000, row
    assert row["qty"] == sum(p["quantity"] for p in good) + legacy["quantity"], row
    leaked = pinot.query(
        f"SELECT transaction_id FROM {table.name} WHERE transaction_id IN ('900001', '900002', '900003') "
        "OR product_id = 'XX99' LIMIT 10"
    )
    assert leaked == [], leaked
