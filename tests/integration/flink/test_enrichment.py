"""The Flink enrichment on the real cluster and broker: versions by time, re-publish, dead letters."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import flink_testkit as tk
import pytest

from streamstack import events
from streamstack.flink.config import FlinkConfig
from streamstack.flink.jobs import submission
from streamstack.flink.rest import FlinkRest
from streamstack.settings import Settings

pytestmark = pytest.mark.integration


def run_bounded(job: str, flink: FlinkConfig, rest: FlinkRest, contract: Path, topics: dict[str, str]) -> None:
    name = f"streamstack.{job}.{topics['purchases'].rsplit('.', 1)[-1]}"
    jid = submission(job, flink, contract, topics, mode="bounded", name=name).run()
    rest.wait_state(jid, {"FINISHED"}, timeout=600)


def test_price_change_is_joined_by_time_and_republish_adds_no_row(
    kafka: Settings, flink: FlinkConfig, flink_rest: FlinkRest, contract_file: Path, fresh_topics: dict[str, str]
) -> None:
    config = kafka.kafka_client_config()
    base = tk.base_time()
    product = tk.catalogue().products[0]
    v1 = product.event(events.format_timestamp(base - timedelta(minutes=10)))
    v2 = {**product.event(events.format_timestamp(base + timedelta(minutes=30))), "price": round(product.price + 1, 2)}
    # The catalogue published twice more (the original demo's duplicate-row trigger): same values, later times.
    republished = [{**v2, "event_time": events.format_timestamp(base + timedelta(minutes=m))} for m in (45, 50)]
    tk.produce(config, fresh_topics["products"], [v1, v2, *republished], key="product_id")
    purchases = [
        tk.purchase(base + timedelta(minutes=m, seconds=7), 900_000 + m, product.product_id,
                    v1["price"] if m < 30 else v2["price"])
        for m in range(0, 60, 3)
    ]
    too_early = tk.purchase(base - timedelta(minutes=20), 899_999, product.product_id, v1["price"])
    tk.produce(config, fresh_topics["purchases"], [too_early, *purchases], key="transaction_id",
               partition_of=lambda i: i % 3)
    run_bounded("purchases_enrichment", flink, flink_rest, contract_file, fresh_topics)

    enriched = tk.values(config, fresh_topics["purchases_enriched"])
    by_id = {r["transaction_id"]: r for r in enriched}
    assert len(enriched) == len(by_id) == len(purchases), "each purchase exactly once, re-publish added no row"
    for p in purchases:
        row = by_id[p["transaction_id"]]
        want = v1 if p["transaction_time"] < v2["event_time"] else v2
        assert row["product_price"] == pytest.approx(want["price"]), (p["transaction_time"], row)
        assert list(row) == events.field_names(events.PURCHASE_ENRICHED)
    dead = tk.values(config, fresh_topics["purchases_invalid"])
    assert [d["reason"].split(":")[0] for d in dead] == ["no_product_version"]
    assert '"899999"' in dead[0]["payload"]
