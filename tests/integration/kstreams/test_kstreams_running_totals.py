"""The running_totals app on the real broker: exactly once across kill -9, queryable over HTTP, resettable.

~60 s on a loaded 2-core box (most of it JVM start-ups and Kafka Streams' first rebalance).
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from streamstack import events
from streamstack.clients import producer
from streamstack.contract import check_purchase, load_contract, product_ids
from streamstack.kstreams.control import KStreamsControl
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs
from streamstack.topics.offsets import end_offsets, read_to_end

pytestmark = pytest.mark.integration
APP = "running_totals"
DEADLINE = 180.0


def purchases(n: int, seed: int, contract: dict[str, Any]) -> list[tuple[str, bytes]]:
    """``n`` purchase lines (key, value), one in 40 malformed, valid ones within the contract."""
    rnd = random.Random(seed)
    ids = product_ids(contract)
    out = []
    for i in range(n):
        tx = f"{seed}{i:07d}"
        if i % 40 == 7:
            out.append((tx, b'{"transaction_id": "' + tx.encode() + b'", "quantity": "lots"}'))
            continue
        member, supplements = rnd.random() < 0.4, rnd.random() < 0.2
        price, quantity = round(rnd.uniform(2, 9), 2), rnd.randint(1, 3)
        discount, supplement = (0.1 if member else 0.0), (1.99 if supplements else 0.0)
        record = {
            "transaction_time": f"2026-12-01 10:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}.{i % 1000:06d}",
            "transaction_id": tx, "line_number": 1, "product_id": rnd.choice(ids), "price": price,
            "quantity": quantity, "is_member": member, "member_discount": discount,
            "add_supplements": supplements, "supplement_price": supplement,
            "total_purchase": events.total_purchase(price, quantity, supplement, discount),
        }
        out.append((tx, json.dumps(record).encode()))
    return out


def python_totals(lines: list[tuple[str, bytes]], contract: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The expected running totals: a plain sum over the valid purchases."""
    totals: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"event_time": "", "transactions": 0, "quantities": 0, "sales": Decimal(0)})
    for _, value in lines:
        record, reason, _ = check_purchase(value, contract)
        if reason is None:
            t = totals[record["product_id"]]
            t["event_time"] = max(t["event_time"], record["transaction_time"])
            t["transactions"] += 1
            t["quantities"] += record["quantity"]
            t["sales"] += Decimal(str(record["total_purchase"]))
    return {pid: {"event_time": t["event_time"], "product_id": pid, "transactions": t["transactions"],
                  "quantities": t["quantities"], "sales": float(t["sales"])} for pid, t in totals.items()}


def publish(config: dict[str, str], topic: str, lines: list[tuple[str, bytes]]) -> None:
    p = producer({**config, "linger.ms": 20, "acks": "all", "enable.idempotence": True})
    for key, value in lines:
        p.produce(topic, key=key, value=value)
        p.poll(0)
    assert p.flush(60) == 0


def by_product(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["product_id"]: r for r in rows}


def wait_for_totals(control: KStreamsControl, expected: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + DEADLINE
    seen: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        seen = by_product(control.totals())
        if seen == expected:
            return seen
        time.sleep(0.5)
    raise AssertionError(f"totals over HTTP never matched; last {sum(s['transactions'] for s in seen.values())} "
                         f"transactions, expected {sum(e['transactions'] for e in expected.values())}")


@pytest.fixture
def control(kafka: Settings, fresh_topics: TopicSpecs, tmp_path: Path) -> KStreamsControl:
    ctl = KStreamsControl(kafka, topics=fresh_topics, run_dir=tmp_path / "run",
                          application_ids={APP: f"it-totals-{uuid.uuid4().hex[:8]}"}, ports={APP: 0})
    yield ctl
    ctl.kill(APP)
    ctl.reset(APP)


def read_latest(config: dict[str, str], topic: str) -> dict[str, dict[str, Any]]:
    """The latest total per product on the output topic (read_committed, to the end offsets)."""
    latest = {}
    for r in sorted(read_to_end(config, topic), key=lambda r: (r["partition"], r["offset"])):
        value = json.loads(r["value"])
        assert r["key"] == value["product_id"]
        latest[value["product_id"]] = value
    return latest


def test_kill_9_mid_stream_then_restart_leaves_exact_totals(
    kafka: Settings, fresh_topics: TopicSpecs, control: KStreamsControl
) -> None:
    contract = load_contract()
    config = kafka.kafka_client_config()
    source, output = fresh_topics["purchases"].name, fresh_topics["running_totals"].name
    first, second = purchases(60_000, 1, contract), purchases(5_000, 2, contract)
    publish(config, source, first)

    report = control.start(APP)
    assert report.state == "RUNNING" and report.port
    expected_first = python_totals(first, contract)
    want = sum(t["transactions"] for t in expected_first.values())
    deadline = time.monotonic() + DEADLINE
    counted = 0
    while time.monotonic() < deadline and counted == 0:
        counted = sum(t["transactions"] for t in control.totals())
        time.sleep(0.05)
    assert control.kill(APP), "the app was not running"
    assert 0 < counted < want, f"not killed mid-stream: {counted} of {want} counted"
    assert not control.health(APP).running

    publish(config, source, second)
    control.start(APP)
    expected = python_totals(first + second, contract)
    assert wait_for_totals(control, expected) == expected

    one = next(iter(expected))
    assert control.totals(one) == expected[one]
    assert control.totals("NO-SUCH-PRODUCT") is None
    assert control.health(APP).state == "RUNNING" and control.input_lag(APP).total == 0

    assert control.stop(APP)
    assert read_latest(config, output) == expected  # the topic agrees: no double count, nothing lost


def test_reset_reprocesses_from_the_start_to_the_same_totals(
    kafka: Settings, fresh_topics: TopicSpecs, control: KStreamsControl
) -> None:
    contract = load_contract()
    config = kafka.kafka_client_config()
    lines = purchases(3_000, 3, contract)
    publish(config, fresh_topics["purchases"].name, lines)
    expected = python_totals(lines, contract)
    output = fresh_topics["running_totals"].name

    def written() -> int:
        return sum(end_offsets(config, output).values())

    control.run_bounded(APP, timeout=DEADLINE)
    assert control.input_lag(APP).by_partition() and control.input_lag(APP).total == 0
    assert read_latest(config, output) == expected
    before = written()
    control.run_bounded(APP, timeout=DEADLINE)  # nothing new: it must write nothing, count nothing twice
    assert written() == before and read_latest(config, output) == expected

    report = control.reset(APP)
    assert report.group_deleted and any(t.endswith("-repartition") for t in report.topics_deleted), report
    assert any(t.endswith("-changelog") for t in report.topics_deleted), report
    assert control.input_lag(APP).total == len(lines)

    ends = end_offsets(config, output)
    control.run_bounded(APP, timeout=DEADLINE)
    # The totals written after the reset alone reach the expected values: the rerun reprocessed
    # everything from the start (the old totals on the topic cannot stand in for it).
    rewritten: dict[str, dict[str, Any]] = {}
    for r in sorted(read_to_end(config, output), key=lambda r: (r["partition"], r["offset"])):
        if r["offset"] >= ends.get(r["partition"], 0):
            value = json.loads(r["value"])
            rewritten[value["product_id"]] = value
    assert rewritten == expected


def test_while_the_app_writes_its_topic_another_engine_is_refused(
    kafka: Settings, fresh_topics: TopicSpecs, control: KStreamsControl, tmp_path: Path
) -> None:
    """Two engines never write one topic: Spark's start is refused, naming the app and a real
    command; once the app is stopped the topic is free."""
    from streamstack import engines
    from streamstack.spark.control import SparkJobControl

    spark = SparkJobControl(kafka, topics=fresh_topics, checkpoint_dir=tmp_path / "ck")
    output = fresh_topics["running_totals"].name
    assert control.start(APP).state == "RUNNING"
    try:
        with pytest.raises(engines.TopicClaimed) as refused:
            spark.start(APP, wait=120)
    finally:
        spark.stop(APP)
    assert f"{output} is written by kstreams job running_totals" in str(refused.value)
    assert "`streamstack engine stop --engine kstreams running_totals`" in str(refused.value)
    assert spark.holder(APP) is None, "Spark started a copy beside the app"

    assert control.stop(APP)
    assert engines.claims(spark.store, [output]) == []
    spark.claim(APP)  # free now
    spark.release(APP)


def test_a_rebuild_that_would_shrink_the_all_time_totals_is_refused(
    kafka: Settings, fresh_topics: TopicSpecs, control: KStreamsControl
) -> None:
    """Retention has trimmed the purchases topic: a reset (or a fresh start) would rebuild the
    all-time totals from what it still holds and overwrite them with smaller ones (#29)."""
    from confluent_kafka import TopicPartition

    from streamstack import engines
    from streamstack.clients import admin_client
    from streamstack.kstreams.engine import KStreamsEngine
    from streamstack.topics.offsets import watermarks

    contract = load_contract()
    config = kafka.kafka_client_config()
    lines = purchases(2_000, 4, contract)
    source, output = fresh_topics["purchases"].name, fresh_topics["running_totals"].name
    publish(config, source, lines)
    control.run_bounded(APP, timeout=DEADLINE)
    expected = python_totals(lines, contract)
    assert read_latest(config, output) == expected

    # What 7-day retention does to an old topic: its first records are gone.
    cut = {p: high // 2 for p, (_, high) in watermarks(config, source).items()}
    admin = admin_client(config)
    for future in admin.delete_records([TopicPartition(source, p, o) for p, o in cut.items()]).values():
        future.result(timeout=60)
    engine = KStreamsEngine(kafka, topics=fresh_topics, kafka_config=config, run_dir=control.run_dir,
                            application_ids=control.application_ids, ports=control.ports)
    gone = f"{sum(cut.values()):,} records are gone from {source}"
    with pytest.raises(engines.WouldShrink, match=gone):
        engine.reset(APP)
    with pytest.raises(engines.WouldShrink, match=gone):
        engine.submit([APP], engines.Mode.BOUNDED, resume=False)
    assert control.input_lag(APP).total == 0, "the app's offsets were reset after all"
    assert read_latest(config, output) == expected

    assert any("consumer group" in what for what in engine.reset(APP, allow_shrink=True))  # accepted: it goes
    assert control.input_lag(APP).total == sum(high - cut[p] for p, (_, high) in watermarks(config, source).items())
