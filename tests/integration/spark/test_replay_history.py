"""A recording older than the catalogue replays into exact numbers on a topic that already holds today's data.

The seed's recordings are from 2022; the demo publishes the catalogue at today's time, so before
replay published the catalogue as of a file's first transaction, every recorded line became a
``no_product_version`` dead letter (issue: "the stream as it really is"). Here today's catalogue
and purchases are on the topics first, as after ``make demo``; both seed files are replayed twice
the way ``streamstack replay`` does it, and one bounded Spark enrichment must enrich every line once
(per line, so per product) and dead-letter nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import spark_testkit as kit

from streamstack.contract import load_contract
from streamstack.events import format_timestamp
from streamstack.generator import load_catalogue, load_config
from streamstack.generator.kafka import KafkaSink
from streamstack.generator.replay import earliest_versions, replay
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs
from streamstack.topics.offsets import read_to_end

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[2] / "data"
FILES = (DATA / "sample_date_new.json", DATA / "sample_data_small.json")


def _replay(kafka_config: dict, topics: TopicSpecs, file: Path) -> int:
    """What ``streamstack replay FILE`` does: versions on the topic first, then the file; returns versions sent."""
    config = load_config(environ={})
    catalogue = load_catalogue(config.catalogue_file).products
    known = earliest_versions([(r["key"], r["value"]) for r in
                               read_to_end(kafka_config, topics["products"].name, raw=True)], load_contract())
    summary = replay(file, KafkaSink(kafka_config, topics, config.producer),
                     known_products={p.product_id for p in catalogue}, catalogue=catalogue, known_versions=known)
    return summary.product_versions


def test_seed_recordings_replay_exactly_after_todays_data(
    kafka: Settings, kafka_config: dict, fresh_topics: TopicSpecs, checkpoint_dir: Path, spark_jars: list
) -> None:
    t = fresh_topics
    now = format_timestamp(datetime.now(UTC))
    today = kit.catalogue(now)
    kit.produce_catalogue(kafka_config, t["products"].name, today)
    todays = [{**p, "transaction_id": f"88{i:05d}", "transaction_time": now} for i, p in
              enumerate(kit.sample_purchases()[:10])]
    kit.produce_purchases(kafka_config, t["purchases"].name, todays)

    first = [_replay(kafka_config, t, file) for file in FILES]
    assert first[0] > 0  # the 2022 file needs versions of 2022
    assert [_replay(kafka_config, t, file) for file in FILES] == [0, 0]  # a second replay publishes none

    kit.run_job("purchases_enrichment", kafka, t, checkpoint_dir)

    assert kit.consume_all(kafka_config, t["purchases_invalid"].name) == []
    rows: dict[tuple[str, int], dict] = {}
    for r in kit.consume_all(kafka_config, t["purchases_enriched"].name):
        value = json.loads(r["value"])
        key = (value["transaction_id"], value["line_number"])
        assert rows.get(key, value) == value, f"{key} enriched twice, differently"
        rows[key] = value
    recorded = [json.loads(r["value"]) for r in kit.consume_all(kafka_config, t["purchases"].name)]
    assert len({(p["transaction_id"], p["line_number"]) for p in recorded}) == len(rows) == 307 + 290 + 10
    want: dict[str, Decimal] = defaultdict(Decimal)
    for p in {(p["transaction_id"], p["line_number"]): p for p in recorded}.values():
        want[p["product_id"]] += Decimal(str(p["total_purchase"]))
    got: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows.values():
        got[row["product_id"]] += Decimal(str(row["total_purchase"]))
    assert got == want
