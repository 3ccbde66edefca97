"""Review §5.12 (issue #29 item 5) against the real Pinot and Kafka.

- A dead letter delivered twice (Spark's at-least-once sink, a retried task) is one row.
- A same-seed rerun of the generator publishes the same shop events again: each is one row.
- A products record every engine dead-letters (missing or mistyped fields) never reaches the
  products table, so it cannot replace the product's real version.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from support.memory_sink import MemorySink
from support.pinot_records import catalogue, produce, product_record

from streamstack.clients import producer
from streamstack.contract import check_product, load_contract
from streamstack.generator import build_model, build_simulation, load_catalogue, load_config, run_generator
from streamstack.pinot import PinotClient
from streamstack.pinot.ingestion import wait_caught_up
from streamstack.pinot.tables import TableSpec
from streamstack.settings import Settings

pytestmark = pytest.mark.integration


def _dead_letter(offset: int, rejected_by: str = "spark.purchases_enrichment", partition: int | None = 0,
                 topic: str = "demo.purchases", reason: str = "missing_field: quantity") -> dict:
    return {
        "source_topic": topic, "source_partition": partition, "source_offset": offset,
        "rejected_at": "2030-01-01 00:00:00.000000", "rejected_by": rejected_by, "reason": reason,
        "payload": "{}", "payload_encoding": "utf-8", "payload_truncated": False, "payload_bytes": 2,
        "payload_sha256": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    }


def test_a_dead_letter_delivered_twice_is_one_row(
    kafka: Settings, pinot: PinotClient, pinot_tables: dict[str, TableSpec]
) -> None:
    spec = pinot_tables["deadLetters"]
    letters = [_dead_letter(o) for o in range(5)]
    # Another job's verdict on the same source record (late in the sales windows) is a second outcome.
    other_job = _dead_letter(0, rejected_by="spark.sales_windows", reason="late: window closed")
    replayed_file = _dead_letter(3, partition=None, topic="file:/data/bad.jsonl", rejected_by="replay")
    first = [*letters, other_job, replayed_file]
    # The retried batch: the same dead letters again, a moment later.
    again = [{**d, "rejected_at": "2030-01-01 00:00:05.000000"} for d in first]
    produce(kafka, spec.topic, "source_topic", first + again)
    state = wait_caught_up(pinot, spec, kafka.kafka_client_config(), timeout=120)
    assert state.rows == len(first) == 7
    rows = pinot.query(f"SELECT rejected_by, COUNT(*) AS n FROM {spec.name} GROUP BY rejected_by LIMIT 10")
    assert {r["rejected_by"]: r["n"] for r in rows} == {"spark.purchases_enrichment": 5, "spark.sales_windows": 1,
                                                        "replay": 1}


def _run(seed: int) -> list[dict]:
    config = load_config()
    model = build_model(config, load_catalogue(config.catalogue_file), seed)
    sink = MemorySink()
    run_generator(model, sink, simulation=build_simulation(model, 2, date(2026, 2, 2)))
    return sink.events()


def test_a_same_seed_rerun_adds_no_shop_events(
    kafka: Settings, pinot: PinotClient, pinot_tables: dict[str, TableSpec]
) -> None:
    spec = pinot_tables["events"]
    first, rerun = _run(42), _run(42)
    assert first == rerun and len(first) > 20
    produce(kafka, spec.topic, "subject", first)
    produce(kafka, spec.topic, "subject", rerun)
    state = wait_caught_up(pinot, spec, kafka.kafka_client_config(), timeout=120)
    assert state.rows == len(first)
    rows = pinot.query(f"SELECT event_type, COUNT(*) AS n FROM {spec.name} GROUP BY event_type LIMIT 20")
    expected: dict[str, int] = {}
    for e in first:
        expected[e["event_type"]] = expected.get(e["event_type"], 0) + 1
    assert {r["event_type"]: r["n"] for r in rows} == expected
    (ids,) = pinot.query(f"SELECT COUNT(DISTINCT event_id) AS n FROM {spec.name}")
    assert ids["n"] == len(first)


def test_products_the_engines_dead_letter_do_not_reach_pinot(
    kafka: Settings, pinot: PinotClient, pinot_tables: dict[str, TableSpec]
) -> None:
    spec = pinot_tables["products"]
    contract = load_contract()
    now = datetime.now(UTC)
    shop = catalogue(kafka)
    versions = [product_record(p, now, float(p["Price"]), float(p["COGS"])) for p in shop]
    by_id = {v["product_id"]: v for v in versions}
    later = "2030-01-01 00:00:00.000000"  # would win the upsert if it got in
    bad: list[tuple[str, object]] = [
        # The review's record: key CS01, product_id CS02, price 0 and most fields missing.
        ("CS01", {"product_id": "CS02", "price": 0, "event_time": later}),
        ("CS03", {**by_id["CS03"], "event_time": later, "price": "0"}),  # a price as text
        ("CS04", {**by_id["CS04"], "event_time": later, "inventory_level": 1.5}),  # not an int
        ("CS05", {**by_id["CS05"], "event_time": later, "cogs": None}),  # null
        ("CS06", {**by_id["CS06"], "event_time": "2030-02-30 00:00:00.000000", "price": 0.01}),  # no such day
        ("CS07", {**by_id["CS07"], "event_time": "2030-01-01T00:00:00", "price": 0.01}),  # not the format
        ("CS08", {**by_id["CS08"], "event_time": later, "item": ["a list"]}),  # not a string
        ("CS09", {**by_id["CS09"], "event_time": later, "contains_nuts": "maybe"}),  # not a boolean
        ("CS10", "not json"),
    ]
    for key, value in bad:
        payload = value if isinstance(value, str) else json.dumps(value)
        _record, reason = check_product(payload, contract, key)
        assert reason is not None, (key, value)  # every engine dead-letters it
    p = producer(kafka.kafka_client_config())
    for v in versions:
        p.produce(spec.topic, key=v["product_id"], value=json.dumps(v))
    for key, value in bad:
        p.produce(spec.topic, key=key, value=value if isinstance(value, str) else json.dumps(value))
    # A valid later version after them: the table still ingests (the filter dropped, nothing broke).
    newer = {**by_id["CS11"], "event_time": later, "price": 9.99}
    p.produce(spec.topic, key="CS11", value=json.dumps(newer))
    assert p.flush(30) == 0

    wait_caught_up(pinot, spec, kafka.kafka_client_config(), timeout=120)
    rows = pinot.query(f"SELECT product_id, item, price, cogs, inventory_level FROM {spec.name} LIMIT 100")
    assert len(rows) == len(shop) == 27
    got = {r["product_id"]: r for r in rows}
    expected = {**by_id, "CS11": newer}
    for product_id, v in expected.items():
        assert (got[product_id]["item"], got[product_id]["price"], got[product_id]["cogs"],
                got[product_id]["inventory_level"]) == (v["item"], v["price"], v["cogs"], v["inventory_level"]), product_id
    latest = pinot.query(f"SELECT COUNT(*) AS n FROM {spec.name} WHERE event_time >= "
                         f"{int((now + timedelta(days=365)).timestamp() * 1000)}")
    assert latest == [{"n": 1}]  # CS11's new version only
