"""Issue 5 §5 against the real Pinot and Kafka: exact numbers, dedup, upsert, idempotent apply."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from support.pinot_records import catalogue, enriched, produce, product_record

from streamstack.clients import producer
from streamstack.pinot import PinotClient, PinotError
from streamstack.pinot.ingestion import wait_caught_up
from streamstack.pinot.tables import TableSpec, apply_specs, load_specs
from streamstack.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_enriched_counts_and_sums_exact_despite_duplicates(
    kafka: Settings, pinot: PinotClient, pinot_tables: dict[str, TableSpec]
) -> None:
    spec = pinot_tables["purchasesEnriched"]
    records = enriched(3000, catalogue(kafka))
    duplicates = records[::10]  # at-least-once delivery: every 10th line arrives twice
    produce(kafka, spec.topic, "transaction_id", records + duplicates)

    state = wait_caught_up(pinot, spec, kafka.kafka_client_config(), timeout=120)
    assert state.rows == len(records)
    assert state.freshness_s is not None and state.freshness_s > 0

    quantity: dict[str, int] = defaultdict(int)
    sales: dict[str, float] = defaultdict(float)
    for r in records:
        quantity[r["product_id"]] += r["purchase_quantity"]
        sales[r["product_id"]] += r["total_purchase"]
    rows = pinot.query(
        f"SELECT product_id, SUM(purchase_quantity) AS q, SUM(total_purchase) AS s FROM {spec.name} "
        "GROUP BY product_id LIMIT 100"
    )
    assert {r["product_id"]: int(r["q"]) for r in rows} == dict(quantity)
    assert {r["product_id"]: round(r["s"], 2) for r in rows} == {k: round(v, 2) for k, v in sales.items()}


def test_republished_catalogue_leaves_27_products(
    kafka: Settings, pinot: PinotClient, pinot_tables: dict[str, TableSpec]
) -> None:
    spec = pinot_tables["products"]
    now = datetime.now(UTC)
    versions = []
    for version in range(3):
        for p in catalogue(kafka):
            moment = now + timedelta(seconds=version)
            versions.append(product_record(p, moment, round(float(p["Price"]) + version, 2), float(p["COGS"])))
    produce(kafka, spec.topic, "product_id", versions)
    wait_caught_up(pinot, spec, kafka.kafka_client_config(), timeout=120)
    assert pinot.count(spec.name) == 27
    latest = {p["ID"]: round(float(p["Price"]) + 2, 2) for p in catalogue(kafka)}
    rows = pinot.query(f"SELECT product_id, price FROM {spec.name} LIMIT 100")
    assert {r["product_id"]: r["price"] for r in rows} == latest


def test_apply_three_times_changes_nothing_after_the_first(
    pinot: PinotClient, make_specs: Callable[[], list[TableSpec]]
) -> None:
    specs = make_specs()
    try:
        runs = [apply_specs(pinot, specs, existing_topics={s.topic for s in specs}) for _ in range(3)]
        assert {c.action for c in runs[0]} == {"created"}
        assert {c.action for c in runs[1]} == {"unchanged"}
        assert runs[2] == runs[1]
    finally:
        for spec in specs:
            pinot.drop_table(spec.name, wait=False)  # unique name: no re-use to wait for


def test_broken_table_config_fails_with_pinots_message(
    pinot: PinotClient, pinot_tables: dict[str, TableSpec]
) -> None:
    spec = pinot_tables["purchases"]
    broken = {
        **spec.table,
        "segmentsConfig": {**spec.table["segmentsConfig"], "timeColumnName": "no_such_column"},
    }
    with pytest.raises(PinotError, match="Cannot find valid fieldSpec for timeColumn: no_such_column"):
        pinot.apply_table(broken)


def test_table_on_a_missing_topic_is_refused_before_pinot(pinot: PinotClient, kafka: Settings) -> None:
    specs = load_specs(
        kafka.config_dir / "pinot", {"purchases_enriched": "no.such.topic"}, kafka.bootstrap_servers, ["purchases"]
    )
    with pytest.raises(Exception, match=r"topics \['no.such.topic'\] do not exist"):
        apply_specs(pinot, specs, existing_topics=set())


def test_transactional_topic_is_caught_up_when_only_markers_remain(
    kafka: Settings, pinot: PinotClient, pinot_tables: dict[str, TableSpec]
) -> None:
    """Flink and Kafka Streams write in transactions: each commit leaves a marker at the end of a partition.

    Pinot (read_committed) consumes every record but never "reaches" an offset that holds only a
    marker, so offset lag stayed 1 per partition and ``make demo ENGINE=flink`` waited forever.
    An aborted transaction is skipped by Pinot and must not be waited for either.
    """
    spec = pinot_tables["purchasesEnriched"]
    records = enriched(60, catalogue(kafka), seed=11)
    p = producer({**kafka.kafka_client_config(), "transactional.id": f"test-markers-{spec.name}"})
    p.init_transactions(30)
    for batch, commit in ((records[:30], True), (enriched(5, catalogue(kafka), seed=12), False), (records[30:], True)):
        p.begin_transaction()
        for record in batch:
            p.produce(spec.topic, key=record["transaction_id"], value=json.dumps(record))
        if commit:
            p.commit_transaction(30)
        else:
            p.abort_transaction(30)

    state = wait_caught_up(pinot, spec, kafka.kafka_client_config(), timeout=90)
    assert state.rows == len(records)
    assert state.caught_up and state.lag == 0, state.summary()
    assert state.markers_only, "the test needs a partition that ends in a transaction marker"
