"""running_totals and sales_windows against the real broker and real local Spark."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from support import spark_testkit as kit

from streamstack import events
from streamstack.settings import Settings
from streamstack.topics import TopicSpecs

pytestmark = pytest.mark.integration


def latest_by(records: list[dict], *key: str) -> dict[tuple, dict]:
    """The last record per key, in offset order (update-mode outputs: the last one is the answer)."""
    out: dict[tuple, dict] = {}
    for r in sorted(records, key=lambda r: (r["partition"], r["offset"])):
        value = json.loads(r["value"])
        out[tuple(value[k] for k in key)] = value
    return out


def test_running_totals_resume_from_checkpoint_without_double_counting(
    kafka: Settings, kafka_config: dict, fresh_topics: TopicSpecs, checkpoint_dir: Path, spark_jars: list
) -> None:
    t = fresh_topics
    purchases = kit.sample_purchases()
    # One product bought only in the first half: a second run that ignored the checkpoint would
    # recompute (and write) its total again; one that resumed never touches it.
    only_first = purchases[0]["product_id"]
    purchases = ([p for p in purchases if p["product_id"] == only_first]
                 + [p for p in purchases if p["product_id"] != only_first])
    half = len(purchases) // 2
    assert purchases[half - 1]["product_id"] != only_first or half == 0
    kit.produce_purchases(kafka_config, t["purchases"].name, purchases[:half])
    kit.produce(kafka_config, t["purchases"].name, [("x", b"garbage"), ("y", {**purchases[0], "quantity": 9})])
    kit.run_job("running_totals", kafka, t, checkpoint_dir)
    first_records = kit.consume_all(kafka_config, t["running_totals"].name)
    first = latest_by(first_records, "product_id")
    kit.produce_purchases(kafka_config, t["purchases"].name, purchases[half:])
    kit.run_job("running_totals", kafka, t, checkpoint_dir)  # restart from the checkpoint

    records = kit.consume_all(kafka_config, t["running_totals"].name)
    # The second run read only the second half: it updated only the products bought there. A run
    # that ignored the checkpoint would recompute every product from the start (same latest totals).
    seen = {(r["partition"], r["offset"]) for r in first_records}
    second = {json.loads(r["value"])["product_id"] for r in records if (r["partition"], r["offset"]) not in seen}
    assert only_first not in second and second == {p["product_id"] for p in purchases[half:]}
    assert all(r["key"] == json.loads(r["value"])["product_id"] for r in records)
    got = latest_by(records, "product_id")
    df = pd.DataFrame(purchases)
    expected = df.groupby("product_id").agg(
        transactions=("quantity", "size"),
        quantities=("quantity", "sum"),
        sales=("total_purchase", "sum"),
        event_time=("transaction_time", "max"),
    )
    assert set(got) == {(p,) for p in expected.index}
    for product_id, row in expected.iterrows():
        value = got[(product_id,)]
        assert list(value) == events.field_names(events.RUNNING_TOTAL)
        assert value["transactions"] == row.transactions
        assert value["quantities"] == row.quantities
        assert value["sales"] == pytest.approx(round(row.sales, 2), abs=0.001)
        assert value["event_time"] == row.event_time
    first_half = pd.DataFrame(purchases[:half]).groupby("product_id")["quantity"].size()
    assert {k[0]: v["transactions"] for k, v in first.items()} == first_half.to_dict()


def expected_windows(purchases: list[dict]) -> pd.DataFrame:
    """10-minute windows sliding 5 minutes, computed independently of Spark."""
    rows = []
    for p in purchases:
        ts = pd.Timestamp(p["transaction_time"])
        last_start = ts.floor("5min")
        for start in (last_start - timedelta(minutes=5), last_start):
            if start <= ts < start + timedelta(minutes=10):
                rows.append({"window_start": start, "product_id": p["product_id"], **p})
    df = pd.DataFrame(rows)
    out = df.groupby(["window_start", "product_id"]).agg(
        transactions=("quantity", "size"), drinks=("quantity", "sum"), sales=("total_purchase", "sum")
    )
    return out


def test_sales_windows_match_an_independent_computation(
    kafka: Settings, kafka_config: dict, fresh_topics: TopicSpecs, checkpoint_dir: Path, spark_jars: list
) -> None:
    t = fresh_topics
    purchases = kit.sample_purchases()
    kit.produce_purchases(kafka_config, t["purchases"].name, purchases)
    kit.run_job("sales_windows", kafka, t, checkpoint_dir)

    got = latest_by(kit.consume_all(kafka_config, t["sales_windows"].name), "window_start", "product_id")
    expected = expected_windows(purchases)
    assert len(got) == len(expected)
    for (start, product_id), row in expected.iterrows():
        value = got[(start.strftime(events.TIMESTAMP_FORMAT), product_id)]
        assert list(value) == events.field_names(events.SALES_WINDOW)
        assert value["window_end"] == (start + timedelta(minutes=10)).strftime(events.TIMESTAMP_FORMAT)
        assert (value["transactions"], value["drinks"]) == (row.transactions, row.drinks)
        assert value["sales"] == pytest.approx(round(row.sales, 2), abs=0.001)


def test_a_line_behind_the_watermark_is_dead_lettered_late_never_dropped(
    kafka: Settings, kafka_config: dict, fresh_topics: TopicSpecs, checkpoint_dir: Path, spark_jars: list
) -> None:
    """Spark's window aggregation dropped a line behind its watermark unseen (only a metric counted
    it). The contract: such a line is in no window and is dead-lettered ``late`` by the windows job."""
    t = fresh_topics
    purchases = kit.sample_purchases()
    live = purchases[:40]
    kit.produce_purchases(kafka_config, t["purchases"].name, live)
    kit.run_job("sales_windows", kafka, t, checkpoint_dir)  # the watermark: the newest live line - 10 minutes
    newest = max(pd.Timestamp(p["transaction_time"]) for p in live)
    fmt = events.TIMESTAMP_FORMAT
    old = {**purchases[40], "transaction_id": "9100000001", "transaction_time": (newest - timedelta(hours=1)).strftime(fmt)}
    recent = {**purchases[41], "transaction_id": "9100000002",
              "transaction_time": (newest - timedelta(minutes=5)).strftime(fmt)}
    kit.produce_purchases(kafka_config, t["purchases"].name, [old, recent])
    kit.run_job("sales_windows", kafka, t, checkpoint_dir)

    letters = [json.loads(r["value"]) for r in kit.consume_all(kafka_config, t["purchases_invalid"].name)]
    assert len(letters) == 1, letters
    (letter,) = letters
    assert letter["rejected_by"] == "spark.sales_windows"
    assert letter["reason"] == (
        f"late: transaction_time {old['transaction_time']} is behind the windows' watermark "
        f"{(newest - timedelta(minutes=10)).floor('ms').strftime(fmt)} (the newest transaction_time of the earlier "
        "micro-batches minus 10 minutes)")  # Spark's watermark: milliseconds
    assert json.loads(letter["payload"]) == old and letter["source_topic"] == t["purchases"].name
    # The run report of each job counts its own dead letters (both write the topic side by side).
    from streamstack.spark.report import count_reasons
    from streamstack.topics.offsets import end_offsets

    invalid = t["purchases_invalid"].name
    ranges = {p: (0, end) for p, end in end_offsets(kafka_config, invalid).items() if end}
    assert count_reasons(kafka_config, invalid, ranges, rejected_by="spark.sales_windows") == {"late": 1}
    assert count_reasons(kafka_config, invalid, ranges, rejected_by="spark.purchases_enrichment") == {}
    got = latest_by(kit.consume_all(kafka_config, t["sales_windows"].name), "window_start", "product_id")
    expected = expected_windows([*live, recent])
    assert {k: (v["transactions"], v["drinks"]) for k, v in got.items()} == {
        (start.strftime(fmt), pid): (row.transactions, row.drinks) for (start, pid), row in expected.iterrows()}
