"""Simulated days through Spark: gross profit per day is right across a price and COGS change.

Two simulated days with a promotion (its discount) and, at noon of day 1, a new price and COGS
for the Classic smoothies. The Spark enrichment must join each purchase with the product version
in force at its time: gross profit per day from the enriched topic equals the one computed here
from the generated versions, and differs from what joining the latest version would give. No dead
letter (promotion discounts are in the contract), and the quality gate passes (prices of a
publishable version are accepted).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from streamstack.generator import build_model, build_simulation, load_catalogue, load_config, run_generator
from streamstack.generator.kafka import KafkaSink
from streamstack.quality import CheckOptions, QualityRunner, read_kafka_window
from streamstack.settings import Settings
from streamstack.spark.jars import connector_jars
from streamstack.spark.jobs import submission
from streamstack.topics import TopicSpecs
from streamstack.topics.offsets import end_offsets

pytestmark = pytest.mark.integration
LIGHT_CONF = {"spark.sql.shuffle.partitions": "2", "spark.driver.memory": "1g", "spark.ui.enabled": "false"}
START = date(2026, 2, 2)


@pytest.fixture
def changing_shop(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = copy.deepcopy(yaml.safe_load((settings.config_dir / "generator.yaml").read_text()))
    data["catalogue_file"] = str(settings.config_dir / "products.csv")
    data["shop"]["anomalies"] = [{"kind": "promotion", "day": 0, "start": "12:00", "hours": 4,
                                  "category": "Superfoods Smoothies", "factor": 2.0, "discount": 0.2}]
    data["shop"]["price_changes"] = [{"day": 1, "time": "12:00", "category": "Classic Smoothies",
                                      "price": 5.29, "cogs": 1.60}]
    file = tmp_path / "generator.yaml"
    file.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("STREAMSTACK_GENERATOR_CONFIG", str(file))
    return file


class Memory:
    destination = "memory"

    def __init__(self) -> None:
        self.bytes_sent = 0
        self.purchases: list[dict] = []
        self.products: list[dict] = []

    def send_purchase(self, transaction_id: str, value: bytes) -> None:
        self.purchases.append(json.loads(value))

    def send_record(self, kind: str, record: dict) -> None:
        if kind == "products":
            self.products.append(record)

    def close(self) -> None:
        pass


def _gross_profit_per_day(purchases: list[dict], versions: list[dict], *, in_force: bool) -> dict[str, float]:
    by_product = defaultdict(list)
    for v in sorted(versions, key=lambda v: v["event_time"]):
        by_product[v["product_id"]].append(v)
    out: dict[str, float] = defaultdict(float)
    for p in purchases:
        candidates = by_product[p["product_id"]]
        if in_force:
            version = [v for v in candidates if v["event_time"] <= p["transaction_time"]][-1]
        else:
            version = candidates[-1]
        out[p["transaction_time"][:10]] += p["quantity"] * (version["price"] - version["cogs"])
    return {day: round(value, 2) for day, value in out.items()}


def test_gross_profit_per_day_is_right_across_a_price_change(
    kafka: Settings, kafka_config: dict, fresh_topics: TopicSpecs, changing_shop: Path, tmp_path: Path
) -> None:
    config = load_config(changing_shop)
    catalogue = load_catalogue(config.catalogue_file)

    def run(sink):
        model = build_model(config, catalogue, 31)
        return run_generator(model, sink, mode="load", simulation=build_simulation(model, 2, START))

    produced_from = datetime.now(UTC) - timedelta(seconds=5)
    summary = run(KafkaSink(kafka_config, fresh_topics, config.producer))
    expected = Memory()
    run(expected)
    assert summary.price_changes == 22  # 11 Classic products, price and COGS
    assert {p["member_discount"] for p in expected.purchases} >= {0.0, 0.1, 0.2}

    sub = submission("purchases_enrichment", kafka, topics=fresh_topics, checkpoint_dir=tmp_path / "ck",
                     conf=LIGHT_CONF, jars=connector_jars(kafka))
    proc = subprocess.run(sub.command("local[2]"), env={**os.environ, **sub.env}, capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert sum(end_offsets(kafka_config, fresh_topics["purchases_invalid"].name).values()) == 0

    start = datetime(START.year, START.month, START.day, tzinfo=UTC)
    # Kafka timestamps are the time of publishing (retention runs on wall time), event times simulated.
    batch = read_kafka_window(kafka_config, fresh_topics["purchases_enriched"].name, produced_from,
                              datetime.now(UTC) + timedelta(seconds=5))
    frame = batch.frame
    assert len(frame) == summary.purchases
    frame["gross_profit"] = frame["purchase_quantity"] * (frame["product_price"] - frame["product_cogs"])
    actual = {day: round(v, 2) for day, v in frame.groupby(frame["transaction_time"].str[:10])["gross_profit"]
              .sum().items()}
    right = _gross_profit_per_day(expected.purchases, expected.products, in_force=True)
    assert actual == pytest.approx(right, abs=0.02)
    wrong = _gross_profit_per_day(expected.purchases, expected.products, in_force=False)
    # Margin 3.49 before, 3.69 after: joining the latest version would overstate day 0 by ~0.20 a drink.
    assert abs(wrong["2026-02-02"] - right["2026-02-02"]) > 10  # the test can tell the versions apart
    classic = frame[frame["product_category"] == "Classic Smoothies"]
    after = classic["transaction_time"] >= "2026-02-03 12:00:00"
    assert set(classic[after]["product_price"]) == {5.29} and set(classic[~after]["product_price"]) == {4.99}

    verdict = QualityRunner(kafka, results_root=tmp_path / "q").check(
        batch, options=CheckOptions(data_docs=False, reference_time=start + timedelta(days=2), max_age_hours=49))
    assert verdict.status == "passed", (verdict.failed_names, verdict.lines())
