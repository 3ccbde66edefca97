"""purchases_enrichment against the real broker and real local Spark."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import spark_testkit as kit

from streamstack import events
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs

pytestmark = pytest.mark.integration


def malformed(base: dict) -> list[tuple[str, bytes | dict, str]]:
    """(key, payload, expected reason prefix) for every kind of bad input."""

    def variant(n: int, **changes: object) -> dict:
        rec = {**base, "transaction_id": f"9000000000{n:03d}", "line_number": 1, **changes}
        return {k: v for k, v in rec.items() if v is not DROP}

    return [
        ("b1", b"this is not json", "not_json"),
        ("b2", b'["an", "array"]', "not_json"),
        ("b3", variant(3, quantity=DROP), "missing_field: quantity"),
        ("b4", variant(4, is_member=None), "missing_field: is_member"),
        ("b5", variant(5, quantity="2"), "mistyped_field: quantity"),
        ("b6", variant(6, is_member="yes"), "mistyped_field: is_member"),
        ("b7", variant(7, transaction_time="14/09/2022 04:36"), "mistyped_field: transaction_time"),
        ("b8", variant(8, line_number=99999999999), "mistyped_field: line_number"),
        ("b9", variant(9, quantity=0, total_purchase=0.0), "quantity_out_of_range"),
        ("b10", variant(10, quantity=4), "quantity_out_of_range"),
        ("b11", variant(11, total_purchase=round(base["total_purchase"] + 0.05, 2)), "total_mismatch"),
        ("b12", variant(12, product_id="ZZ99"), "unknown_product"),
    ]


DROP = object()


def test_enrichment_is_exact_uses_latest_product_and_dead_letters_bad_input(
    kafka: Settings, kafka_config: dict, fresh_topics: TopicSpecs, checkpoint_dir: Path, spark_jars: list
) -> None:
    t = fresh_topics
    # Three catalogue versions: v2 changes two prices, v3 repeats v2 (a plain re-publish).
    v1 = kit.catalogue("2022-09-14 00:00:00.000000")
    v2 = kit.catalogue("2022-09-14 00:01:00.000000", {"CS01": 1.0, "SF05": 0.5})
    v3 = kit.catalogue("2022-09-14 00:02:00.000000", {"CS01": 1.0, "SF05": 0.5})
    for version in (v1, v2, v3):
        kit.produce_catalogue(kafka_config, t["products"].name, version)
    purchases = kit.sample_purchases()
    kit.produce_purchases(kafka_config, t["purchases"].name, purchases)
    bad = malformed(purchases[0])
    kit.produce(kafka_config, t["purchases"].name, [(key, payload) for key, payload, _ in bad])

    kit.run_job("purchases_enrichment", kafka, t, checkpoint_dir)

    latest = {p["product_id"]: p for p in v3}
    enriched_records = kit.consume_all(kafka_config, t["purchases_enriched"].name)
    enriched = kit.by_line(enriched_records)
    assert len(enriched) == len(purchases)  # exactly one row per purchase despite 3 catalogue versions
    for p in purchases:
        got = enriched[(p["transaction_id"], p["line_number"])]
        assert list(got) == events.field_names(events.PURCHASE_ENRICHED)
        assert got == kit.expected_enriched(p, latest[p["product_id"]])
    assert {r["key"] for r in enriched_records} == {p["transaction_id"] for p in purchases}
    assert any(g["product_id"] == "CS01" and g["product_price"] == 5.99 for g in enriched.values())

    # Every malformed input is a dead letter with its reason, payload and source position.
    source = {r["value"]: (r["partition"], r["offset"]) for r in kit.consume_all(kafka_config, t["purchases"].name)}
    letters = [json.loads(r["value"]) for r in kit.consume_all(kafka_config, t["purchases_invalid"].name)]
    assert len(letters) == len(bad)
    by_payload = {d["payload"]: d for d in letters}
    for _, payload, reason in bad:
        text = payload.decode() if isinstance(payload, bytes) else json.dumps(payload)
        letter = by_payload[text]
        assert letter["reason"].startswith(reason), (letter["reason"], reason)
        assert (letter["source_partition"], letter["source_offset"]) == source[text]
        assert letter["source_topic"] == t["purchases"].name
        assert letter["rejected_by"] == "spark.purchases_enrichment"
        assert list(letter) == events.field_names(events.INVALID_PURCHASE)

    # Republish the catalogue twice (new prices, valid from the 15th), add 20 purchases of the 15th,
    # run again from the checkpoint: exactly the 20 new rows appear, with the version valid at
    # their time (the newest); the old rows keep the prices of their time, nothing is enriched again.
    v4 = kit.catalogue("2022-09-15 00:00:00.000000", {"CS01": 2.0})
    for version in (v4, v4):
        kit.produce_catalogue(kafka_config, t["products"].name, version)
    more = [{**p, "transaction_id": f"77{i:05d}", "transaction_time": "2022-09-15 12:00:00.000000"}
            for i, p in enumerate(purchases[:20])]
    kit.produce_purchases(kafka_config, t["purchases"].name, more)

    kit.run_job("purchases_enrichment", kafka, t, checkpoint_dir)

    after = kit.by_line(kit.consume_all(kafka_config, t["purchases_enriched"].name))
    assert len(after) == len(purchases) + len(more)
    newest = {p["product_id"]: p for p in v4}
    for p in more:
        assert after[(p["transaction_id"], p["line_number"])] == kit.expected_enriched(p, newest[p["product_id"]])
    for key, value in enriched.items():
        assert after[key] == value
    assert len(kit.consume_all(kafka_config, t["purchases_invalid"].name)) == len(bad)
